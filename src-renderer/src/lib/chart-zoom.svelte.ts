/**
 * The x range a group of charts is zoomed to. Charts that share a cursor share this too: a drag on
 * one zooms all of them and a double-click on any resets all of them. Each chart used to keep its
 * own zoom while uPlot's cursor sync replayed the drag on the others but not the reset, so the
 * others stayed on the old window and stopped showing new points (issue 21).
 */
export class ChartZoom {
  /** [x0, x1] of the zoom, or null for the whole run (the charts then follow new points). */
  range = $state.raw<[number, number] | null>(null);

  set(x0: number, x1: number): void {
    this.range = [x0, x1];
  }

  reset(): void {
    this.range = null;
  }
}
