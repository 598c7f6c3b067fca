import { describe, expect, it } from 'vitest';
import { readLines } from '../../src/transports/push.js';

function streamOf(chunks: readonly string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk));
      controller.close();
    },
  });
}

async function lines(chunks: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  await readLines(streamOf(chunks), (line) => {
    out.push(line);
    return true;
  });
  return out;
}

describe('readLines', () => {
  it('splits on \\n, \\r\\n and \\r, keeping empty lines (they end SSE events)', async () => {
    expect(await lines(['a\nb\r\nc\rd\n\n'])).toEqual(['a', 'b', 'c', 'd', '']);
  });

  it('joins a line split across chunks, and a \\r\\n split between two', async () => {
    expect(await lines(['{"a":', '1}\r', '\n{"b":2}\n'])).toEqual(['{"a":1}', '{"b":2}']);
  });

  it('decodes UTF-8 split inside a character', async () => {
    const bytes = new TextEncoder().encode('héllo\n');
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 2));
        controller.enqueue(bytes.slice(2));
        controller.close();
      },
    });
    const out: string[] = [];
    await readLines(stream, (line) => out.push(line) > 0);
    expect(out).toEqual(['héllo']);
  });

  it('drops an unterminated last line and stops when told to', async () => {
    expect(await lines(['a\nb'])).toEqual(['a']);
    const out: string[] = [];
    await readLines(streamOf(['1\n2\n3\n']), (line) => out.push(line) < 2);
    expect(out).toEqual(['1', '2']);
  });
});
