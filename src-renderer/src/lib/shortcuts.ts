/**
 * Keyboard shortcuts: one list, read by the key handlers and shown in Settings. Keys act only when
 * no text field has the focus and no modifier is held, so typing a name never triggers one.
 */
export const SHORTCUTS: { keys: string; where: string; does: string }[] = [
  { keys: '1 2 3 4', where: 'anywhere', does: 'Runs, New run, Environments, Settings' },
  { keys: 'p', where: 'a run', does: 'pause, resume or start the run' },
  { keys: 's', where: 'a run', does: 'stop the run (resumable)' },
  { keys: 'l', where: 'a run', does: 'watch the policy live, or stop watching' },
  { keys: '0', where: 'a run, Compare', does: 'reset the charts’ zoom' },
  { keys: 'Space ← →', where: 'a replay', does: 'play or pause, step back or forward' },
];

/** True when a key press belongs to a text field or carries a modifier (not a shortcut). */
export function notAShortcut(e: KeyboardEvent): boolean {
  if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) return true;
  const t = e.target as HTMLElement | null;
  if (!t) return false;
  return t.isContentEditable || ['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName) || t.closest('dialog') !== null;
}
