import type { PolicyGraph } from './policy-graph.ts';
import type { PolicyMeta } from './meta.ts';
import { policyToOnnx } from './onnx.ts';
import { policyToTfjs, TFJS_WEIGHTS_FILE } from './tfjs.ts';
import { policyToJson, runnerSource } from './json.ts';

export const EXPORT_FORMATS = ['tfjs', 'onnx', 'json'] as const;
export type ExportFormatName = (typeof EXPORT_FORMATS)[number];

export interface ExportFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * The files of one export. `folder`: what the CLI writes (TF.js: model.json + weights.bin; JSON:
 * policy.json + runner.mjs; each with a README). `single`: one self-contained file for the studio's
 * save dialog / download (ONNX as is; JSON with its inline weights; TF.js as model.json with the
 * weights inline as base64, loaded with tf.io.fromMemory).
 */
export async function renderExport(
  graph: PolicyGraph,
  meta: PolicyMeta,
  format: ExportFormatName,
  form: 'folder' | 'single',
): Promise<ExportFile[]> {
  const text = (s: string) => new TextEncoder().encode(s);
  switch (format) {
    case 'onnx':
      return [{ name: 'policy.onnx', bytes: policyToOnnx(graph, meta) }];
    case 'json': {
      const policy = { name: 'policy.json', bytes: text(policyToJson(graph, meta)) };
      if (form === 'single') return [policy];
      return [policy, { name: 'runner.mjs', bytes: text(runnerSource()) }, { name: 'README.md', bytes: text(readme('json', meta)) }];
    }
    case 'tfjs': {
      const { modelJson, weights } = await policyToTfjs(graph, meta);
      if (form === 'single') {
        return [
          { name: 'model.json', bytes: text(JSON.stringify({ ...modelJson, weightsBase64: Buffer.from(weights).toString('base64') })) },
        ];
      }
      return [
        { name: 'model.json', bytes: text(JSON.stringify(modelJson)) },
        { name: TFJS_WEIGHTS_FILE, bytes: weights },
        { name: 'README.md', bytes: text(readme('tfjs', meta)) },
      ];
    }
  }
}

function readme(format: 'tfjs' | 'json', meta: PolicyMeta): string {
  const obs = meta.observation;
  const layout = obs.layout.map((p) => `- \`${p.name}\`: values ${p.offset}..${p.offset + p.size - 1}`).join('\n');
  const acts = meta.action.names.map((n, i) => `- \`${n}\`: [${meta.action.low[i]}, ${meta.action.high[i]}]`).join('\n');
  const use =
    format === 'tfjs'
      ? [
          '```js',
          "const model = await tf.loadLayersModel('https://…/model.json'); // or a file IO handler in Node",
          'const action = model.predict(tf.tensor([obs])).dataSync();',
          '```',
        ]
      : [
          '```js',
          "import { createPolicy } from './runner.mjs';",
          'const policy = createPolicy(JSON.parse(policyJsonText));',
          'const action = policy.act(obs);',
          '```',
          '',
          "From a shell: `node runner.mjs policy.json '[obs, …]'`.",
        ];
  return [
    `# ${meta.algo.toUpperCase()} policy for ${meta.env.id}`,
    '',
    `Exported by RL Studio from run \`${meta.run.id}\`, checkpoint \`${meta.checkpoint.name}\`` +
      (meta.evalReturn === null ? '.' : ` (eval return ${meta.evalReturn}).`),
    '',
    `Input: the raw observation, ${obs.shape.join(' x ')} float32` +
      (obs.normalization ? ' (the running normalisation is inside the model).' : '.'),
    '',
    layout,
    '',
    `Output: the action in actuator units, ${meta.action.scaling}.`,
    '',
    acts,
    '',
    ...use,
    '',
    `Everything else (env spec, training config) is in the metadata: ${format === 'tfjs' ? '`userDefinedMetadata.rlStudio` in model.json' : 'the `meta` field of policy.json'}.`,
    '',
  ].join('\n');
}
