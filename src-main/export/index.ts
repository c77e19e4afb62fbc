import { join } from 'node:path';
import { UserError } from '../util/errors.ts';
import { EXPORT_FORMATS, renderExport, type ExportFile, type ExportFormatName } from './files.ts';
import type { PolicyMeta } from './meta.ts';
import { loadRunPolicy } from './run-policy.ts';
import { writeExport } from './write.ts';

export { EXPORT_FORMATS, type ExportFile, type ExportFormatName } from './files.ts';
export type { PolicyMeta } from './meta.ts';
export { loadExportedPolicy, type ExportedPolicy } from './load.ts';

/** A run folder, or a runs folder plus a run id (what the studio's run view knows). */
export type PolicySource = string | { runsDir: string; id: string };

export function parseExportFormat(format: string): ExportFormatName {
  if ((EXPORT_FORMATS as readonly string[]).includes(format)) return format as ExportFormatName;
  throw new UserError({ field: '--format', message: `unknown export format '${format}' (choose ${EXPORT_FORMATS.join(', ')})` });
}

function runDirOf(source: PolicySource): string {
  if (typeof source === 'string') return source;
  // Ids come from the renderer: a bare name inside the runs folder, never a path out of it.
  if (!/^[A-Za-z0-9._-]{1,128}$/.test(source.id) || /^\.+$/.test(source.id))
    throw new UserError({ field: 'id', message: `'${source.id}' is not a run id` });
  return join(source.runsDir, source.id);
}

/**
 * The export as one self-contained file, for the studio's Export action (save dialog in Electron,
 * download in browser mode): ONNX `policy.onnx`, JSON `policy.json` (weights inline), TF.js
 * `model.json` with the weights inline as base64 (`weightsBase64`; load with tf.io.fromMemory).
 * `checkpoint`: 'best' (default), 'latest', a step, or a checkpoint file name.
 */
export async function exportPolicy(
  source: PolicySource,
  format: string,
  checkpoint?: string,
): Promise<{ files: ExportFile[]; meta: PolicyMeta }> {
  const fmt = parseExportFormat(format);
  const { graph, meta } = await loadRunPolicy(runDirOf(source), checkpoint);
  return { files: await renderExport(graph, meta, fmt, 'single'), meta };
}

/**
 * The CLI's export: ONNX to a file (policy.onnx inside `out` when it is a folder), TF.js
 * (model.json + weights.bin) and JSON (policy.json + runner.mjs) into the folder `out`.
 */
export async function exportPolicyTo(
  source: PolicySource,
  format: string,
  out: string,
  checkpoint?: string,
): Promise<{ paths: string[]; meta: PolicyMeta }> {
  const fmt = parseExportFormat(format);
  const { graph, meta } = await loadRunPolicy(runDirOf(source), checkpoint);
  const files = await renderExport(graph, meta, fmt, 'folder');
  return { paths: await writeExport(files, fmt, out), meta };
}
