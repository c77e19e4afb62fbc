import { createHash } from 'node:crypto';

/**
 * A self-checking binary container for checkpoints: named typed arrays plus a JSON header, closed
 * by a SHA-256 of everything before it, so a torn or bit-flipped file is detected on load instead
 * of silently resuming from garbage.
 *
 * Layout: magic "RLSTUDIO" (8 bytes) | uint32 LE header length | header JSON (utf8) | zero padding
 * to 8 bytes | array bytes, each 8-aligned | SHA-256 (32 bytes).
 */
const MAGIC = Buffer.from('RLSTUDIO', 'ascii');
const FORMAT_VERSION = 1;

export type StoredArray = Float32Array | Float64Array | Int32Array | Uint8Array;
type DType = 'f32' | 'f64' | 'i32' | 'u8';

interface ArrayEntry {
  name: string;
  dtype: DType;
  length: number;
  offset: number;
}

interface Header {
  version: number;
  meta: unknown;
  arrays: ArrayEntry[];
}

/** The file is not what it should be (truncated, checksum mismatch, not a checkpoint). */
export class CorruptFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptFileError';
  }
}

function dtypeOf(a: StoredArray): DType {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int32Array) return 'i32';
  return 'u8';
}

const BYTES: Record<DType, number> = { f32: 4, f64: 8, i32: 4, u8: 1 };
const align8 = (n: number) => (n + 7) & ~7;

export function encodeTensorFile(meta: unknown, arrays: Record<string, StoredArray>): Uint8Array {
  const entries: ArrayEntry[] = [];
  let payload = 0;
  for (const [name, a] of Object.entries(arrays)) {
    entries.push({ name, dtype: dtypeOf(a), length: a.length, offset: payload });
    payload = align8(payload + a.byteLength);
  }
  const header = Buffer.from(JSON.stringify({ version: FORMAT_VERSION, meta, arrays: entries } satisfies Header), 'utf8');
  const start = align8(MAGIC.length + 4 + header.length);
  const out = Buffer.alloc(start + payload + 32);
  MAGIC.copy(out, 0);
  out.writeUInt32LE(header.length, MAGIC.length);
  header.copy(out, MAGIC.length + 4);
  for (const e of entries) {
    const a = arrays[e.name];
    out.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), start + e.offset);
  }
  createHash('sha256')
    .update(out.subarray(0, start + payload))
    .digest()
    .copy(out, start + payload);
  return out;
}

export function decodeTensorFile(bytes: Uint8Array): { meta: unknown; arrays: Record<string, StoredArray> } {
  return readTensorFile(bytes, true);
}

/** Checks a file as decodeTensorFile does (header, checksum, every array in bounds) without copying its arrays out. */
export function verifyTensorFile(bytes: Uint8Array): void {
  readTensorFile(bytes, false);
}

function readTensorFile(bytes: Uint8Array, copyArrays: boolean): { meta: unknown; arrays: Record<string, StoredArray> } {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < MAGIC.length + 4 + 32 || !buf.subarray(0, MAGIC.length).equals(MAGIC))
    throw new CorruptFileError('not an RL Studio checkpoint (bad header)');
  const body = buf.subarray(0, buf.length - 32);
  const sum = createHash('sha256').update(body).digest();
  if (!sum.equals(buf.subarray(buf.length - 32))) throw new CorruptFileError('checksum mismatch (the file is truncated or damaged)');
  const hlen = buf.readUInt32LE(MAGIC.length);
  let header: Header;
  try {
    header = JSON.parse(buf.subarray(MAGIC.length + 4, MAGIC.length + 4 + hlen).toString('utf8')) as Header;
  } catch {
    throw new CorruptFileError('unreadable header');
  }
  if (header.version !== FORMAT_VERSION)
    throw new CorruptFileError(`format version ${header.version} is not supported (expected ${FORMAT_VERSION})`);
  const start = align8(MAGIC.length + 4 + hlen);
  const arrays: Record<string, StoredArray> = {};
  for (const e of header.arrays) {
    const n = e.length * BYTES[e.dtype];
    const at = start + e.offset;
    if (at + n > body.length) throw new CorruptFileError(`array '${e.name}' runs past the end of the file`);
    if (!copyArrays) continue;
    // Copy into a fresh, aligned buffer: the file's bytes may sit at any offset.
    const copy = new Uint8Array(n);
    copy.set(buf.subarray(at, at + n));
    arrays[e.name] =
      e.dtype === 'f32'
        ? new Float32Array(copy.buffer)
        : e.dtype === 'f64'
          ? new Float64Array(copy.buffer)
          : e.dtype === 'i32'
            ? new Int32Array(copy.buffer)
            : copy;
  }
  return { meta: header.meta, arrays };
}
