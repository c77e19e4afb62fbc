import { describe, expect, it } from 'vitest';
import { decodeFrames } from '../../../src-main/render/headless.ts';

/** What the render-host page sends: 'R' + runs of (count, r, g, b), or 'B' + raw bytes, as base64. */
function runs(...entries: [number, number, number, number][]): string {
  return Buffer.from([82, ...entries.flat()]).toString('base64');
}

describe('frames from the render-host page', () => {
  it('expands runs of pixels into packed RGB', () => {
    const out = new Uint8Array(3 * 6);
    decodeFrames(runs([4, 10, 20, 30], [1, 1, 2, 3], [1, 255, 0, 7]), out);
    expect(Array.from(out)).toEqual([10, 20, 30, 10, 20, 30, 10, 20, 30, 10, 20, 30, 1, 2, 3, 255, 0, 7]);
  });

  it('takes raw bytes as they are', () => {
    const raw = Uint8Array.from({ length: 12 }, (_, i) => i * 20);
    const out = new Uint8Array(12);
    decodeFrames(Buffer.from([66, ...raw]).toString('base64'), out);
    expect(Array.from(out)).toEqual(Array.from(raw));
  });

  it('refuses answers that do not fill the frames exactly, or in an unknown encoding', () => {
    expect(() => decodeFrames(runs([2, 0, 0, 0]), new Uint8Array(9))).toThrow(/6 bytes for 9/);
    expect(() => decodeFrames(runs([4, 0, 0, 0]), new Uint8Array(9))).toThrow(/more than the 9 bytes/);
    expect(() => decodeFrames(Buffer.from([66, 1, 2]).toString('base64'), new Uint8Array(3))).toThrow(/2 bytes for 3/);
    expect(() => decodeFrames(Buffer.from([0, 1, 2, 3, 4]).toString('base64'), new Uint8Array(3))).toThrow(/unknown encoding/);
  });
});
