/**
 * Frames of one size kept once each by id, run-length encoded, oldest out first: the storage under
 * PixelReplay.
 *
 * Encoding: runs of up to 255 equal pixels as (count, r, g, b). Rendered observations are mostly
 * flat background, sky and floor: measured on 64x64 frames of the suite (anti-aliased), a
 * cartpole frame takes ~270 bytes of 12288, cheetah ~2.6 KB, walker ~3.5 KB. A frame whose runs
 * would not be smaller is kept raw. Decoding one frame is a single pass over its runs.
 *
 * Bytes live in one ring that grows (by half, live frames copied in order) up to what the same
 * frames take raw, so the store never holds more than an uncompressed one would, and usually a
 * few percent of it. Frames leave in the order they came: when the slots or the bytes run out,
 * the oldest go, and `onEvict` hears each id that leaves.
 */
export class FrameStore {
  readonly frameBytes: number;
  /** Most frames held at once. */
  readonly maxFrames: number;
  /** Largest the byte ring may grow: every frame raw. */
  readonly maxBytes: number;
  private bytes: Uint8Array;
  /** Per slot: the frame's id (-1: empty), its byte offset in the ring and its encoded length. */
  private readonly slotId: Float64Array;
  private readonly offset: Float64Array;
  private readonly length: Int32Array;
  private readonly slotOf = new Map<number, number>();
  /** Next slot to fill, oldest live slot, frames held, next byte to write. */
  private nextSlot = 0;
  private oldest = 0;
  private held = 0;
  private head = 0;
  private readonly scratch: Uint8Array;

  constructor(
    frameBytes: number,
    maxFrames: number,
    private readonly onEvict: (id: number) => void = () => {},
    initialBytes = 8 << 20,
  ) {
    if (!(frameBytes > 0 && frameBytes % 3 === 0)) throw new Error('frame store: frames are packed RGB (a multiple of 3 bytes)');
    if (!(maxFrames >= 1)) throw new Error('frame store: room for at least one frame');
    this.frameBytes = frameBytes;
    this.maxFrames = maxFrames;
    this.maxBytes = maxFrames * frameBytes;
    this.bytes = new Uint8Array(Math.min(this.maxBytes, Math.max(initialBytes, frameBytes)));
    this.slotId = new Float64Array(maxFrames).fill(-1);
    this.offset = new Float64Array(maxFrames);
    this.length = new Int32Array(maxFrames);
    // Worst case of the encoding: one run per pixel, 4 bytes for 3.
    this.scratch = new Uint8Array((frameBytes / 3) * 4);
  }

  /** Frames held. */
  get size(): number {
    return this.held;
  }

  /** Bytes of bookkeeping per frame slot: id and offset (float64), length (int32). */
  static readonly SLOT_BYTES = 8 + 8 + 4;

  /** Bytes allocated: the byte ring (it grows with need) and the slots' bookkeeping. */
  get byteLength(): number {
    return this.bytes.byteLength + this.maxFrames * FrameStore.SLOT_BYTES;
  }

  /** Bytes the held frames take encoded. */
  get bytesHeld(): number {
    let n = 0;
    for (let k = 0, s = this.oldest; k < this.held; k++, s = (s + 1) % this.maxFrames) n += this.length[s];
    return n;
  }

  has(id: number): boolean {
    return this.slotOf.has(id);
  }

  /** The slot holding frame `id`, or -1. */
  slot(id: number): number {
    return this.slotOf.get(id) ?? -1;
  }

  /** The id held in `slot` (-1: none): a slot read earlier still holds its frame while this matches. */
  idAt(slot: number): number {
    return this.slotId[slot];
  }

  /** Stores frame `id` (frameBytes bytes of `src` from `at`) unless it is held; returns its slot. */
  put(id: number, src: Uint8Array, at = 0): number {
    const known = this.slotOf.get(id);
    if (known !== undefined) return known;
    const n = this.encode(src, at);
    return n >= this.frameBytes ? this.append(id, src, at, this.frameBytes) : this.append(id, this.scratch, 0, n);
  }

  /** Adds frame `id` as `len` encoded bytes of `data` from `at` (len = frameBytes: raw). */
  private append(id: number, data: Uint8Array, at: number, len: number): number {
    if (this.held === this.maxFrames) this.evictOldest();
    const pos = this.place(len);
    this.bytes.set(data.subarray(at, at + len), pos);
    const s = this.nextSlot;
    this.slotId[s] = id;
    this.offset[s] = pos;
    this.length[s] = len;
    this.slotOf.set(id, s);
    this.nextSlot = (s + 1) % this.maxFrames;
    this.held++;
    this.head = pos + len;
    return s;
  }

  /** Writes the frame in `slot` into out[at, at + frameBytes). */
  read(slot: number, out: Uint8Array, at = 0): Uint8Array {
    const off = this.offset[slot];
    const len = this.length[slot];
    // A view from the frame's start keeps the loop's indices small integers (offsets are doubles).
    const b = this.bytes.subarray(off, off + len);
    if (len === this.frameBytes) {
      out.set(b, at);
      return out;
    }
    let o = at;
    for (let i = 0; i < len; i += 4) {
      const r = b[i + 1];
      const g = b[i + 2];
      const bl = b[i + 3];
      const end = o + 3 * b[i];
      for (; o < end; o += 3) {
        out[o] = r;
        out[o + 1] = g;
        out[o + 2] = bl;
      }
    }
    if (o !== at + this.frameBytes) throw new Error(`frame store: slot ${slot} decodes to ${o - at} bytes, not ${this.frameBytes}`);
    return out;
  }

  /** The held frames, oldest first: ids, encoded lengths and their bytes one after another (for checkpoints). */
  save(): { ids: Float64Array; lengths: Int32Array; bytes: Uint8Array } {
    const ids = new Float64Array(this.held);
    const lengths = new Int32Array(this.held);
    let total = 0;
    for (let k = 0, s = this.oldest; k < this.held; k++, s = (s + 1) % this.maxFrames) {
      ids[k] = this.slotId[s];
      lengths[k] = this.length[s];
      total += this.length[s];
    }
    const bytes = new Uint8Array(total);
    let o = 0;
    for (let k = 0, s = this.oldest; k < this.held; k++, s = (s + 1) % this.maxFrames) {
      bytes.set(this.bytes.subarray(this.offset[s], this.offset[s] + this.length[s]), o);
      o += this.length[s];
    }
    return { ids, lengths, bytes };
  }

  /** Adds frames written by save(), in their order; checks that each decodes to one frame. */
  restore(ids: Float64Array, lengths: Int32Array, bytes: Uint8Array): void {
    if (ids.length !== lengths.length) throw new Error(`frame store: ${ids.length} frame ids but ${lengths.length} lengths`);
    let o = 0;
    for (let k = 0; k < ids.length; k++) {
      const len = lengths[k];
      if (!(len > 0 && len <= this.frameBytes && (len === this.frameBytes || len % 4 === 0)) || o + len > bytes.length)
        throw new Error(`frame store: frame ${k} has a bad length ${len}`);
      if (len < this.frameBytes) {
        let pixels = 0;
        for (let i = o; i < o + len; i += 4) pixels += bytes[i];
        if (pixels * 3 !== this.frameBytes)
          throw new Error(`frame store: frame ${k} decodes to ${pixels * 3} bytes, not ${this.frameBytes}`);
      }
      if (!this.slotOf.has(ids[k])) this.append(ids[k], bytes, o, len);
      o += len;
    }
    if (o !== bytes.length) throw new Error(`frame store: ${bytes.length - o} bytes left over after the frames`);
  }

  /** Run-length encodes the frame into scratch; returns the encoded length (>= frameBytes: keep it raw). */
  private encode(src: Uint8Array, at: number): number {
    const out = this.scratch;
    const end = at + this.frameBytes;
    let n = 0;
    let i = at;
    while (i < end) {
      const r = src[i];
      const g = src[i + 1];
      const b = src[i + 2];
      let count = 1;
      i += 3;
      while (i < end && count < 255 && src[i] === r && src[i + 1] === g && src[i + 2] === b) {
        count++;
        i += 3;
      }
      if (n + 4 > this.frameBytes) return this.frameBytes;
      out[n] = count;
      out[n + 1] = r;
      out[n + 2] = g;
      out[n + 3] = b;
      n += 4;
    }
    return n;
  }

  private evictOldest(): void {
    const s = this.oldest;
    const id = this.slotId[s];
    this.slotOf.delete(id);
    this.slotId[s] = -1;
    this.oldest = (s + 1) % this.maxFrames;
    this.held--;
    if (this.held === 0) this.head = 0;
    this.onEvict(id);
  }

  /**
   * A byte offset for `len` new bytes: after the newest frame if the ring has room there, else
   * from its start, growing the ring while it may, else making room by evicting the oldest frames.
   */
  private place(len: number): number {
    for (;;) {
      if (this.held === 0) {
        this.head = 0;
        if (len <= this.bytes.length) return 0;
        this.grow(len);
        continue;
      }
      const tail = this.offset[this.oldest];
      // Live bytes run from tail to head, either in one piece (head > tail) or wrapped round the end.
      const wrapped = this.head <= tail;
      if (!wrapped) {
        if (this.head + len <= this.bytes.length) return this.head;
        if (len <= tail) return 0;
      } else if (this.head + len <= tail) return this.head;
      if (this.bytes.length < this.maxBytes) this.grow(len);
      else this.evictOldest();
    }
  }

  /** Grows the ring by half (up to maxBytes), copying the live frames to its start in order. */
  private grow(atLeast: number): void {
    const size = Math.min(this.maxBytes, Math.max(Math.ceil(1.5 * this.bytes.length), this.bytesHeld + atLeast));
    const next = new Uint8Array(size);
    let o = 0;
    for (let k = 0, s = this.oldest; k < this.held; k++, s = (s + 1) % this.maxFrames) {
      next.set(this.bytes.subarray(this.offset[s], this.offset[s] + this.length[s]), o);
      this.offset[s] = o;
      o += this.length[s];
    }
    this.bytes = next;
    this.head = o;
  }
}
