/**
 * Files dropped onto the window as StudioApi InFiles: folders are walked (meshes often sit in a
 * subfolder), MJCF / JSON travel as text and everything else (STL, OBJ, PNG) as base64. Names are
 * relative to what was dropped, so an MJCF's `meshdir`/`file` references resolve the same way.
 */
import type { InFile } from '../../../src-main/api/studio-api.ts';

const TEXT = /\.(xml|json|txt|mjcf)$/i;
const MAX_FILES = 64;

async function toInFile(file: File, name: string): Promise<InFile> {
  if (TEXT.test(name)) return { name, encoding: 'utf8', content: await file.text() };
  const bytes = new Uint8Array(await file.arrayBuffer());
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return { name, encoding: 'base64', content: btoa(bin) };
}

function readEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    const next = (): void =>
      reader.readEntries((batch) => {
        if (!batch.length) resolve(all);
        else {
          all.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, prefix: string, out: { file: File; name: string }[]): Promise<void> {
  if (out.length > MAX_FILES) return;
  if (entry.isFile) {
    const file = await new Promise<File>((res, rej) => (entry as FileSystemFileEntry).file(res, rej));
    out.push({ file, name: prefix + entry.name });
  } else if (entry.isDirectory) {
    for (const e of await readEntries(entry as FileSystemDirectoryEntry)) await walk(e, `${prefix}${entry.name}/`, out);
  }
}

/**
 * The dropped files. A single dropped folder is unwrapped (its contents become the top level), so
 * dropping `my-env/` and dropping the files inside it give the same names.
 */
export async function filesFromDrop(dt: DataTransfer): Promise<InFile[]> {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const found: { file: File; name: string }[] = [];
  if (entries.length) {
    if (entries.length === 1 && entries[0].isDirectory) {
      for (const e of await readEntries(entries[0] as FileSystemDirectoryEntry)) await walk(e, '', found);
    } else for (const e of entries) await walk(e, '', found);
  } else for (const f of dt.files) found.push({ file: f, name: f.name });
  if (found.length > MAX_FILES) throw new Error(`more than ${MAX_FILES} files dropped`);
  return Promise.all(found.map((f) => toInFile(f.file, f.name)));
}

/**
 * Files picked with a file input (the same as a drop, for a remote browser or without a mouse).
 * A picked folder names its files `<folder>/...`: the folder is unwrapped as a dropped one is.
 */
export async function filesFromPicker(list: FileList): Promise<InFile[]> {
  const files = [...list];
  if (files.length > MAX_FILES) throw new Error(`more than ${MAX_FILES} files chosen`);
  const names = files.map((f) => f.webkitRelativePath || f.name);
  const tops = new Set(names.map((n) => (n.includes('/') ? n.slice(0, n.indexOf('/')) : '')));
  const unwrap = tops.size === 1 && !tops.has('');
  return Promise.all(files.map((f, i) => toInFile(f, unwrap ? names[i].slice(names[i].indexOf('/') + 1) : names[i])));
}
