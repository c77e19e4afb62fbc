import { decodeF32, type EpisodeReplay } from '../../../src-main/api/studio-api.ts';
import type { EpisodeMeta } from '../../../src-main/api/runs.ts';
import { errorText, saveBytes } from '../api/client.ts';
import type { MujocoScene } from '../scene/mujoco-scene.ts';
import type { Studio } from './studio.svelte.ts';
import { blendPoses } from '../lib/poses.ts';

export const SPEEDS = [0.25, 0.5, 1, 2, 4];

/** Frame size of saved videos (720p): the same file from any window size. */
const VIDEO_SIZE: [number, number] = [1280, 720];

/** A recorded episode being replayed: the timeline (frame, play/pause, speed) and video capture. */
export class ReplayState {
  episodes = $state.raw<EpisodeMeta[]>([]);
  episodeId = $state<string | null>(null);
  replay = $state.raw<EpisodeReplay | null>(null);
  error = $state<string | null>(null);
  /** Current frame as the controls show it (published at most ~20 times a second while playing). */
  frame = $state(0);
  /** The playing position (fractional), advanced every animation frame; the 3D view blends the frames around it. */
  private position = 0;
  private published = 0;
  playing = $state(false);
  speed = $state(1);
  loop = $state(true);
  recording = $state(false);
  /** The drawing-buffer size while a video is captured (null: the view's own). */
  videoSize = $state.raw<[number, number] | null>(null);

  poses: Float32Array = new Float32Array(0);
  /** The bodies' poses between two recorded frames (blendPoses), reused every animation frame. */
  private blended: Float32Array = new Float32Array(0);
  rewards = $state.raw<Float32Array>(new Float32Array(0));
  actions = $state.raw<Float32Array>(new Float32Array(0));
  /** frames x observation size (empty for episodes recorded without observations). */
  observations = $state.raw<Float32Array>(new Float32Array(0));
  /** (frames - 1) x reward terms (empty for episodes recorded without them). */
  rewardTerms = $state.raw<Float32Array>(new Float32Array(0));
  private canvas: HTMLCanvasElement | null = null;

  constructor(
    private readonly studio: Studio,
    readonly runId: string,
  ) {}

  get frames(): number {
    return this.replay?.meta.frames ?? 0;
  }

  get dt(): number {
    return this.replay?.meta.dt ?? 0.01;
  }

  async load(episodeId?: string): Promise<void> {
    try {
      this.episodes = (await this.studio.client.call('listEpisodes', { id: this.runId })).episodes;
      const id = episodeId ?? this.episodes.at(-1)?.id;
      if (!id) {
        this.error = 'This run has no recorded episodes yet: they are recorded at each evaluation.';
        return;
      }
      await this.open(id);
    } catch (e) {
      this.error = errorText(e);
    }
  }

  async open(id: string): Promise<void> {
    this.playing = false;
    this.episodeId = id;
    const r = await this.studio.client.call('getEpisode', { id: this.runId, episode: id });
    this.poses = decodeF32(r.poses);
    this.rewards = decodeF32(r.rewards);
    this.actions = decodeF32(r.actions);
    this.observations = r.observations ? decodeF32(r.observations.values) : new Float32Array(0);
    this.rewardTerms = r.rewardTerms ? decodeF32(r.rewardTerms.values) : new Float32Array(0);
    this.position = this.frame = 0;
    this.replay = r;
    this.error = null;
  }

  /** Advances the timeline by `dt` wall seconds and places the bodies (called every animation frame). */
  tick(scene: MujocoScene, dt: number): void {
    const n = this.frames;
    if (!n) return;
    if (this.playing) {
      // A video is captured in real time whatever speed is chosen for watching.
      let f = this.position + (dt * (this.recording ? 1 : this.speed)) / this.dt;
      if (f >= n - 1) {
        if (this.loop && !this.recording) f = 0;
        else {
          f = n - 1;
          this.playing = false;
        }
      }
      this.position = f;
      // The 3D view moves every frame; the slider, clock and playheads follow at ~20 Hz, which
      // keeps DOM work off most animation frames.
      const now = performance.now();
      if (now - this.published >= 50 || !this.playing) {
        this.published = now;
        this.frame = f;
      }
    }
    const nbody = scene.model?.bodies.length ?? 0;
    if (this.playing && nbody > 0 && this.position % 1 !== 0) {
      // Between recorded frames while playing: the display runs faster than the control step.
      if (this.blended.length !== nbody * 7) this.blended = new Float32Array(nbody * 7);
      scene.setPoses(blendPoses(this.poses, nbody, this.position, this.blended));
    } else {
      scene.setPoses(this.poses, Math.min(n - 1, Math.floor(this.position)));
    }
  }

  seek(frame: number): void {
    this.position = this.frame = Math.max(0, Math.min(this.frames - 1, frame));
  }

  toggle(): void {
    if (!this.playing && this.position >= this.frames - 1) this.position = this.frame = 0;
    this.playing = !this.playing;
  }

  attachCanvas(canvas: HTMLCanvasElement): void {
    this.canvas = canvas;
  }

  /**
   * Plays the episode once from the start in real time (the video lasts as long as the episode,
   * whatever the playback speed), drawing at VIDEO_SIZE (whatever the window's size), recording the
   * 3D view to WebM, and saves it.
   */
  async saveVideo(): Promise<void> {
    if (!this.canvas || this.recording || !this.replay) return;
    const mime = ['video/webm;codecs=vp9', 'video/webm;codecs=vp8', 'video/webm'].find((m) => MediaRecorder.isTypeSupported(m));
    if (!mime) {
      this.error = 'This browser cannot record WebM video.';
      return;
    }
    const stream = this.canvas.captureStream(30);
    const rec = new MediaRecorder(stream, { mimeType: mime, videoBitsPerSecond: 4_000_000 });
    const chunks: Blob[] = [];
    rec.ondataavailable = (e) => {
      if (e.data.size) chunks.push(e.data);
    };
    const stopped = new Promise<void>((res) => (rec.onstop = () => res()));
    this.recording = true;
    this.videoSize = VIDEO_SIZE;
    // One animation frame for the drawing buffer to take the video size before capture starts.
    await new Promise((r) => requestAnimationFrame(r));
    this.position = this.frame = 0;
    this.playing = true;
    rec.start(250);
    await new Promise<void>((res) => {
      const check = (): void => {
        if (!this.playing) res();
        else setTimeout(check, 50);
      };
      check();
    });
    rec.stop();
    await stopped;
    for (const t of stream.getTracks()) t.stop();
    this.recording = false;
    this.videoSize = null;
    const blob = new Blob(chunks, { type: 'video/webm' });
    await saveBytes(`${this.runId}-${this.episodeId}.webm`, new Uint8Array(await blob.arrayBuffer()), 'video/webm');
  }
}
