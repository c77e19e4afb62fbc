/**
 * Layout of many frames in one canvas: frame f sits in column f % cols, row floor(f / cols),
 * rows counted from the bottom (WebGL's origin), so the first frames fill the bottom rows and one
 * readPixels of the used rows fetches them all.
 */
export class Tiling {
  readonly cols: number;
  readonly rows: number;
  readonly canvasWidth: number;
  readonly canvasHeight: number;
  private rgba: Uint8Array | null = null;

  constructor(
    readonly width: number,
    readonly height: number,
    readonly maxFrames: number,
  ) {
    if (!(width >= 1 && height >= 1 && maxFrames >= 1)) throw new Error('frame size and maxFrames must be positive');
    this.cols = Math.ceil(Math.sqrt(maxFrames));
    this.rows = Math.ceil(maxFrames / this.cols);
    this.canvasWidth = this.cols * width;
    this.canvasHeight = this.rows * height;
  }

  viewport(f: number): { x: number; y: number; width: number; height: number } {
    return { x: (f % this.cols) * this.width, y: Math.floor(f / this.cols) * this.height, width: this.width, height: this.height };
  }

  rowsFor(frames: number): number {
    return Math.ceil(frames / this.cols);
  }

  readBuffer(frames: number): Uint8Array {
    const n = this.canvasWidth * this.rowsFor(frames) * this.height * 4;
    if (!this.rgba || this.rgba.length < n) this.rgba = new Uint8Array(this.canvasWidth * this.canvasHeight * 4);
    return this.rgba.subarray(0, n);
  }

  /** RGBA canvas rows (bottom-up) to packed RGB frames, rows top-down. */
  unpack(rgba: Uint8Array, frames: number): Uint8Array {
    const { width: w, height: h, cols, canvasWidth: cw } = this;
    const out = new Uint8Array(frames * w * h * 3);
    let o = 0;
    for (let f = 0; f < frames; f++) {
      const x0 = (f % cols) * w;
      const y0 = Math.floor(f / cols) * h;
      for (let r = 0; r < h; r++) {
        let i = ((y0 + h - 1 - r) * cw + x0) * 4;
        for (let c = 0; c < w; c++, i += 4) {
          out[o++] = rgba[i];
          out[o++] = rgba[i + 1];
          out[o++] = rgba[i + 2];
        }
      }
    }
    return out;
  }
}
