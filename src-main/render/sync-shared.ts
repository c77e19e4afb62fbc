/** Shared-memory layout and messages between SyncRenderHost and its worker (host-worker.ts). */
import type { SceneModel } from '../api/scene.ts';
import type { FrameSize, PixelCamera } from './host.ts';
import type { HeadlessOptions } from './headless.ts';

/** Int32 slots of the control buffer. */
export const C_REQUEST = 0;
export const C_DONE = 1;
export const C_FRAMES = 2;
/** 0: ok, 1: the batch failed (message in the error buffer). */
export const C_STATUS = 3;
export const ERROR_BYTES = 2048;

export interface SyncHostBuffers {
  control: SharedArrayBuffer;
  poses: SharedArrayBuffer;
  frames: SharedArrayBuffer;
  error: SharedArrayBuffer;
}

export type WorkerRequest =
  | { type: 'start'; opts: HeadlessOptions }
  | { type: 'setScene'; scene: SceneModel; camera: PixelCamera; size: FrameSize; buffers: SyncHostBuffers }
  | { type: 'close' };

export type WorkerReply = { type: 'ok' } | { type: 'error'; message: string };
