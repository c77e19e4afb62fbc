import { mkdir, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomic } from '../store/atomic.ts';
import { realErrorCode } from '../store/run-store.ts';
import { UserError } from '../util/errors.ts';
import type { ExportFile, ExportFormatName } from './files.ts';

/**
 * Writes an export where the user asked: ONNX to a file (or policy.onnx inside an existing
 * folder), TF.js and JSON into a folder (created when missing). Returns the written paths.
 * File-system refusals (a path through a regular file, no permission, read-only disk) are the
 * user's to fix and come back as one-line UserErrors.
 */
export async function writeExport(files: ExportFile[], format: ExportFormatName, out: string): Promise<string[]> {
  const target = resolve(out);
  try {
    if (format === 'onnx') {
      const isDir = await stat(target).then(
        (s) => s.isDirectory(),
        () => false,
      );
      const file = isDir ? join(target, files[0].name) : target;
      await mkdir(resolve(file, '..'), { recursive: true });
      await writeFileAtomic(file, files[0].bytes);
      return [file];
    }
    await mkdir(target, { recursive: true });
    const written: string[] = [];
    for (const f of files) {
      const path = join(target, f.name);
      await writeFileAtomic(path, f.bytes);
      written.push(path);
    }
    return written;
  } catch (e) {
    throw new UserError({ file: out, message: `cannot write the export here: ${describeFsError(e)}` });
  }
}

function describeFsError(e: unknown): string {
  const code = realErrorCode(e);
  switch (code) {
    case 'ENOTDIR':
      return 'a part of the path is a file, not a folder';
    case 'EISDIR':
      return 'it is a folder';
    case 'EEXIST':
      return 'a file is in the way of the folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
}
