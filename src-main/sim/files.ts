/**
 * An env's files, in memory: the MJCF, its task spec, and everything the MJCF pulls in (includes,
 * meshes, textures, height fields, skins). Checks that need no MuJoCo happen here, before MuJoCo
 * sees anything: size, well-formed XML, no DOCTYPE/ENTITY declarations (entity expansion), and no
 * reference that leaves the env's folder or is missing.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import type { ErrorDetail } from '../util/errors.ts';

export interface EnvFile {
  /** Path relative to the env's folder, with forward slashes (e.g. `cheetah.xml`, `meshes/foot.stl`). */
  name: string;
  content: string | Uint8Array;
}

/** Largest file accepted (MJCF, task spec or asset). */
export const MAX_FILE_BYTES = 20 * 1024 * 1024;
/** Most files one env may bring. */
export const MAX_FILES = 256;
/** Deepest element nesting accepted in an XML file (a 90-link chain of bodies still fits). */
export const MAX_XML_DEPTH = 100;

/** Attributes that name files, per element (MuJoCo XML reference). */
const FILE_ATTRS: Record<string, string[]> = {
  include: ['file'],
  mesh: ['file'],
  hfield: ['file'],
  skin: ['file'],
  model: ['file'],
  texture: ['file', 'fileright', 'fileleft', 'fileup', 'filedown', 'filefront', 'fileback'],
};

export function byteLength(c: string | Uint8Array): number {
  return typeof c === 'string' ? Buffer.byteLength(c, 'utf8') : c.byteLength;
}

export function asText(c: string | Uint8Array): string {
  return typeof c === 'string' ? c : new TextDecoder().decode(c);
}

export function asBytes(c: string | Uint8Array): Uint8Array {
  return typeof c === 'string' ? new TextEncoder().encode(c) : c;
}

/**
 * Normalises a relative reference against the folder of the file naming it; returns null when it
 * is absolute or climbs out of the env's folder.
 */
export function resolveRef(fromFile: string, ref: string, dir = ''): string | null {
  if (/^([a-zA-Z]:|[\\/])/.test(ref) || ref.includes('\0') || /^[a-z]+:\/\//i.test(ref)) return null;
  const base = fromFile.split('/').slice(0, -1);
  const parts = [...base, ...dir.split(/[\\/]/).filter(Boolean), ...ref.split(/[\\/]/)];
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (!out.length) return null;
      out.pop();
    } else out.push(p);
  }
  return out.join('/');
}

/** Finds the line of the first match of `re` in `text` (1-based). */
function lineOf(text: string, index: number): number {
  return text.slice(0, index).split('\n').length;
}

export interface XmlRefs {
  /** Files referenced (already resolved relative to the env root), with the element naming them. */
  refs: { path: string; element: string; attr: string }[];
  errors: ErrorDetail[];
}

/** Checks one MJCF (or included) XML file and lists the files it references. */
export function scanXml(name: string, text: string): XmlRefs {
  const errors: ErrorDetail[] = [];
  const decl = /<!(DOCTYPE|ENTITY)/i.exec(text);
  if (decl) {
    errors.push({
      file: name,
      field: `line ${lineOf(text, decl.index)}`,
      message: `XML ${decl[1].toUpperCase()} declarations are not accepted (entity expansion); remove it`,
    });
    return { refs: [], errors };
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    errors.push({ file: name, field: `line ${valid.err.line}`, message: `malformed XML: ${valid.err.msg}` });
    return { refs: [], errors };
  }
  const parser = new XMLParser({
    maxNestedTags: MAX_XML_DEPTH,
    ignoreAttributes: false,
    attributeNamePrefix: '',
    preserveOrder: true,
    processEntities: false,
    allowBooleanAttributes: true,
  });
  let tree: unknown[];
  try {
    tree = parser.parse(text) as unknown[];
  } catch (e) {
    // The parser refuses elements nested deeper than MAX_XML_DEPTH (a hostile file would otherwise
    // exhaust the stack in every recursive walk after it): the user's mistake, not a studio fault.
    const msg = (e as Error).message;
    errors.push({
      file: name,
      message: /nested/i.test(msg)
        ? `elements are nested deeper than ${MAX_XML_DEPTH} levels; MJCF this deep is not accepted`
        : `malformed XML: ${msg}`,
    });
    return { refs: [], errors };
  }
  // meshdir / texturedir / assetdir from <compiler> apply to meshes, skins, hfields / textures.
  const dirs = { mesh: '', texture: '' };
  const refs: XmlRefs['refs'] = [];
  const pending: { element: string; attr: string; value: string }[] = [];
  const walk = (nodes: unknown[]): void => {
    for (const node of nodes) {
      if (!node || typeof node !== 'object') continue;
      const rec = node as Record<string, unknown>;
      const attrs = (rec[':@'] ?? {}) as Record<string, string>;
      for (const [tag, children] of Object.entries(rec)) {
        if (tag === ':@' || tag === '#text') continue;
        if (tag === 'compiler') {
          if (attrs.assetdir) dirs.mesh = dirs.texture = attrs.assetdir;
          if (attrs.meshdir) dirs.mesh = attrs.meshdir;
          if (attrs.texturedir) dirs.texture = attrs.texturedir;
        }
        for (const attr of FILE_ATTRS[tag] ?? [])
          if (typeof attrs[attr] === 'string') pending.push({ element: tag, attr, value: attrs[attr] });
        if (Array.isArray(children)) walk(children);
      }
    }
  };
  walk(tree);
  for (const r of pending) {
    const dir = r.element === 'include' || r.element === 'model' ? '' : r.element === 'texture' ? dirs.texture : dirs.mesh;
    const path = resolveRef(name, r.value, dir);
    if (path === null)
      errors.push({
        file: name,
        field: `<${r.element} ${r.attr}="${r.value}">`,
        message: "the path leaves the env's folder (absolute or '..' above it); keep assets beside the MJCF",
      });
    else refs.push({ path, element: r.element, attr: r.attr });
  }
  return { refs, errors };
}

/**
 * Checks a set of files for problems that need no physics: sizes, XML, references. Returns the
 * errors and the files the main MJCF reaches.
 */
export function precheckFiles(files: EnvFile[], mainXml: string): ErrorDetail[] {
  const errors: ErrorDetail[] = [];
  if (files.length > MAX_FILES) errors.push({ message: `too many files (${files.length}); an env may bring at most ${MAX_FILES}` });
  const byName = new Map(files.map((f) => [f.name, f]));
  for (const f of files) {
    const n = byteLength(f.content);
    if (n > MAX_FILE_BYTES)
      errors.push({ file: f.name, message: `file is ${(n / 1048576).toFixed(1)} MB; the limit is ${MAX_FILE_BYTES / 1048576} MB` });
  }
  if (errors.length) return errors;
  const seen = new Set<string>();
  const visit = (name: string): void => {
    if (seen.has(name)) return;
    seen.add(name);
    const f = byName.get(name);
    if (!f) return;
    const scan = scanXml(name, asText(f.content));
    errors.push(...scan.errors);
    for (const r of scan.refs) {
      if (!byName.has(r.path))
        errors.push({
          file: name,
          field: `<${r.element} ${r.attr}>`,
          message: `references '${r.path}', which is not among the env's files`,
        });
      else if (r.element === 'include' || r.element === 'model') visit(r.path);
    }
  };
  visit(mainXml);
  return errors;
}

/** Files referenced from `mainXml`, transitively (used to collect an env from disk). */
export function referencedFiles(readText: (name: string) => string | null, mainXml: string): { names: string[]; errors: ErrorDetail[] } {
  const names: string[] = [];
  const errors: ErrorDetail[] = [];
  const seen = new Set<string>();
  const visit = (name: string, xml: boolean): void => {
    if (seen.has(name)) return;
    seen.add(name);
    names.push(name);
    if (!xml) return;
    const text = readText(name);
    if (text === null) return;
    const scan = scanXml(name, text);
    errors.push(...scan.errors);
    for (const r of scan.refs) visit(r.path, r.element === 'include' || r.element === 'model');
  };
  visit(mainXml, true);
  return { names, errors };
}
