/**
 * Worker-thread entry of one training run: the trainer runs here so the Electron main process,
 * the server and the CLI never block. Control arrives as messages; events go back the same way.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { HostMessage, WorkerInput, WorkerMessage } from './protocol.ts';
import { ControlState, runSession } from './session.ts';

const port = parentPort;
if (!port) throw new Error('train/train-worker.ts must run in a worker thread');
const input = workerData as WorkerInput;
const control = new ControlState();
control.live = input.live ?? false;
port.on('message', (m: HostMessage) => {
  if (m.type === 'pause') control.pause();
  else if (m.type === 'resume') control.resume();
  else if (m.type === 'stop') control.stop();
  else if (m.type === 'live') control.live = m.on;
});
const post = (m: WorkerMessage) => port.postMessage(m);
const end = await runSession(input, control, (event) => post({ type: 'event', event }));
post({ type: 'end', ...end });
port.close();
