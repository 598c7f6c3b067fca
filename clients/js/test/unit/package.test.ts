// The package as shipped: the committed browser bundle matches the sources, stays within its
// size budget, and the public types have no `any` and accept the platform's own classes.

import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import ts from 'typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { basename } from 'node:path';
import { browserBundles, root } from '../../scripts/bundle.mjs';
import type { EventSourceConstructor, WebSocketConstructor } from '../../src/index.js';

describe('the package', () => {
  for (const { options, path, budgetKiB } of browserBundles) {
    const name = basename(path);

    it(`has a committed ${name} identical to a fresh build of the sources`, async () => {
      const fresh = (await build(options)).outputFiles[0]?.text;
      const committed = readFileSync(path, 'utf8');
      expect(committed === fresh, `src/Herald.Server/wwwroot/js/${name} is stale: run \`npm run build\` in clients/js and commit it`).toBe(true);
    });

    it(`fits ${name} in ${budgetKiB} KiB minified and gzipped`, async () => {
      const bytes = (await build(options)).outputFiles[0]?.contents ?? new Uint8Array();
      expect(gzipSync(bytes, { level: 9 }).length).toBeLessThanOrEqual(budgetKiB * 1024);
    });
  }

  it('keeps SharedHerald out of the main bundle, and has the shared one import it instead of a copy', async () => {
    const [main, shared] = browserBundles;
    const mainText = (await build(main?.options ?? {})).outputFiles?.[0]?.text ?? '';
    const sharedText = (await build(shared?.options ?? {})).outputFiles?.[0]?.text ?? '';
    expect(mainText).not.toContain('herald-realtime/');
    expect(sharedText).toMatch(/from"\.\/herald-client\.js"/);
    expect(sharedText).not.toContain('"HeraldError"');
  });

  it('declares no `any` in its public types', () => {
    const config = ts.getParsedCommandLineOfConfigFile(`${root}/tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    if (config === undefined) throw new Error('tsconfig.json did not parse');
    const declarations: string[] = [];
    const program = ts.createProgram(config.fileNames, config.options);
    const emitted = program.emit(undefined, (name, text) => declarations.push(`${name}\n${text}`), undefined, true);
    expect(emitted.diagnostics).toEqual([]);
    expect(declarations.length).toBeGreaterThan(5);
    const withAny = declarations.filter((d) => /\bany\b/.test(d.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '')));
    expect(withAny.map((d) => d.split('\n')[0])).toEqual([]);
  });

  it('accepts the browser WebSocket and EventSource classes as they are typed', () => {
    expectTypeOf<typeof WebSocket>().toMatchTypeOf<WebSocketConstructor>();
    expectTypeOf<typeof EventSource>().toMatchTypeOf<EventSourceConstructor>();
  });
});
