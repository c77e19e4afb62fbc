// The renderer's only door to the engine: three narrow functions, never raw ipcRenderer.
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';

const api = {
  /** Calls one StudioApi method; the main process validates `params` with the zod schema. */
  call: (method: string, params: unknown): Promise<unknown> => ipcRenderer.invoke('studio:call', method, params),
  /** Subscribes to pushed events; returns the unsubscribe function. */
  onEvent: (listener: (event: string, data: unknown) => void): (() => void) => {
    const handler = (_e: IpcRendererEvent, event: string, data: unknown) => listener(event, data);
    ipcRenderer.on('studio:event', handler);
    return () => ipcRenderer.removeListener('studio:event', handler);
  },
  /** Asks the main process for a native save dialog and writes the bytes there. */
  saveFile: (suggestedName: string, bytes: Uint8Array): Promise<string | null> => ipcRenderer.invoke('studio:save', suggestedName, bytes),
};

contextBridge.exposeInMainWorld('studioBridge', api);
