import * as tf from '@tensorflow/tfjs';

/** What tensorValues() reads of the wasm backend (TensorFlow.js internals, checked before use). */
interface WasmBackendInternals {
  wasm?: { HEAPU8?: Uint8Array };
  dataIdMap?: { get(id: unknown): { memoryOffset?: number | null } | undefined };
}

/**
 * A float32 tensor's values, without the copy dataSync() makes where the wasm backend allows it: a
 * view of the backend's heap, valid only until the next TensorFlow.js call (use it at once). At a
 * batch of 64 pixel observations dataSync() allocates and copies 9.4 MB each time, several times
 * per update.
 */
export function tensorValues(t: tf.Tensor): Float32Array {
  const b = tf.engine().backend as unknown as WasmBackendInternals;
  const heap = b.wasm?.HEAPU8;
  const offset = b.dataIdMap?.get(t.dataId)?.memoryOffset;
  if (t.dtype === 'float32' && heap && typeof offset === 'number' && offset % 4 === 0)
    return new Float32Array(heap.buffer, heap.byteOffset + offset, t.size);
  return t.dataSync() as Float32Array;
}
