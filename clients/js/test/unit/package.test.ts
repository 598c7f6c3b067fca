// The package as shipped: the committed browser bundle matches the sources, stays within its
// size budget, and the public types have no `any` and accept the platform's own classes.

import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import ts from 'typescript';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { browserBundlePath, browserOptions, root } from '../../scripts/bundle.mjs';
import type { EventSourceConstructor, WebSocketConstructor } from '../../src/index.js';

describe('the package', () => {
  it('has a committed browser bundle identical to a fresh build of the sources', async () => {
    const fresh = (await build(browserOptions)).outputFiles[0]?.text;
    const committed = readFileSync(browserBundlePath, 'utf8');
    expect(committed === fresh, 'src/Herald.Server/wwwroot/js/herald-client.js is stale: run `npm run build` in clients/js and commit it').toBe(true);
  });

  it('fits the browser bundle in 12 KiB minified and gzipped', async () => {
    const bytes = (await build(browserOptions)).outputFiles[0]?.contents ?? new Uint8Array();
    expect(gzipSync(bytes, { level: 9 }).length).toBeLessThanOrEqual(12 * 1024);
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
