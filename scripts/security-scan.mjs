#!/usr/bin/env node
// Electronegativity over the built Electron bundles (out/main, out/preload, out/renderer). The tool
// itself exits 0 even with findings, so this reads its results: any HIGH finding, or any MEDIUM one
// not explained in test/security/electronegativity-reviewed.json, fails the test command.
import { createRequire } from 'node:module';
import { readFileSync, existsSync } from 'node:fs';

const require = createRequire(import.meta.url);
const run = require('@doyensec/electronegativity/dist/runner.js');
const electronVersion = require('electron/package.json').version;
const reviewed = JSON.parse(readFileSync(new URL('../test/security/electronegativity-reviewed.json', import.meta.url), 'utf8'));

if (!existsSync('out/main/index.js')) {
  console.error('security scan: build first (npm run build)');
  process.exit(1);
}
// The tool logs its own chatter (release lookups that cannot work offline); keep stdout for the verdict.
const log = console.log;
console.log = () => undefined;
const result = await run({ input: 'out', electronVersionOverride: electronVersion, isRelative: true }, false);
console.log = log;

let failed = 0;
for (const i of result.issues) {
  const sev = i.severity?.name ?? '?';
  const explained = reviewed[i.id];
  const blocking = sev === 'HIGH' ? !explained : sev === 'MEDIUM' && !explained;
  if (blocking) failed++;
  console.log(
    `${blocking ? 'FAIL' : explained ? 'reviewed' : 'info'}  ${sev.padEnd(13)} ${i.id}  ${i.file}:${i.location?.line ?? ''}${explained ? `  (${explained})` : ''}`,
  );
}
console.log(`electronegativity: ${result.issues.length} findings, ${failed} unexplained at MEDIUM or HIGH`);
process.exit(failed ? 1 : 0);
