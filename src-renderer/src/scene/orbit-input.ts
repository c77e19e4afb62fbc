/**
 * Mouse and wheel control of a MujocoScene's orbit camera on an on-screen canvas: drag to orbit,
 * shift-drag or right-drag to pan, wheel to zoom. Kept apart from MujocoScene so the scene builder
 * stays free of DOM events (the pixel render host has none). Returns a function that detaches.
 */
import type { MujocoScene } from './mujoco-scene.ts';

export function attachOrbitInput(canvas: HTMLCanvasElement, scene: MujocoScene, onChange: () => void = () => undefined): () => void {
  let dragging: { x: number; y: number; pan: boolean } | null = null;

  const down = (e: PointerEvent): void => {
    dragging = { x: e.clientX, y: e.clientY, pan: e.shiftKey || e.button === 2 };
    canvas.setPointerCapture(e.pointerId);
  };
  const move = (e: PointerEvent): void => {
    if (!dragging) return;
    const dx = e.clientX - dragging.x;
    const dy = e.clientY - dragging.y;
    dragging.x = e.clientX;
    dragging.y = e.clientY;
    const view = scene.getView();
    // Dragging a model camera view switches back to the free camera, from where the user is.
    if (view.kind === 'camera' || view.kind === 'manual') scene.setView({ kind: 'orbit' });
    if (dragging.pan) scene.panBy(dx / canvas.clientHeight, dy / canvas.clientHeight);
    else scene.orbitBy(-dx * 0.4, dy * 0.3);
    onChange();
  };
  const up = (e: PointerEvent): void => {
    dragging = null;
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
  };
  const wheel = (e: WheelEvent): void => {
    e.preventDefault();
    scene.zoomBy(Math.exp(e.deltaY * 0.001));
    onChange();
  };
  const menu = (e: MouseEvent): void => e.preventDefault();

  canvas.addEventListener('pointerdown', down);
  canvas.addEventListener('pointermove', move);
  canvas.addEventListener('pointerup', up);
  canvas.addEventListener('pointercancel', up);
  canvas.addEventListener('wheel', wheel, { passive: false });
  canvas.addEventListener('contextmenu', menu);
  return () => {
    canvas.removeEventListener('pointerdown', down);
    canvas.removeEventListener('pointermove', move);
    canvas.removeEventListener('pointerup', up);
    canvas.removeEventListener('pointercancel', up);
    canvas.removeEventListener('wheel', wheel);
    canvas.removeEventListener('contextmenu', menu);
  };
}
