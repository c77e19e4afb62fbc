import type { F32Base64 } from '../api/studio-api.ts';
import type { InFile } from '../api/studio-api.ts';
import type { EnvFile } from '../sim/files.ts';

/** Float32 data as base64 of its bytes (see F32Base64 in the contract). */
export function encodeF32(a: ArrayLike<number>): F32Base64 {
  const f = a instanceof Float32Array ? a : Float32Array.from(a);
  return Buffer.from(f.buffer, f.byteOffset, f.byteLength).toString('base64');
}

/** Dropped files as the sim layer takes them: text stays text, binary (meshes) becomes bytes. */
export function toEnvFiles(files: InFile[]): EnvFile[] {
  return files.map((f) => ({
    name: f.name,
    content: f.encoding === 'base64' ? new Uint8Array(Buffer.from(f.content, 'base64')) : f.content,
  }));
}
