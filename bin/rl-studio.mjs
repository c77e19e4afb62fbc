#!/usr/bin/env node
// Entry of the `rl-studio` CLI: runs the TypeScript sources through tsx's loader so the CLI, the
// server and their worker threads share one code path with the tests.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src-main/cli/main.ts');
process.exitCode = await main(process.argv);
