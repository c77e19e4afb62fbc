/**
 * The viewer's model cameras against MuJoCo itself: for every built-in env with named cameras, at
 * random states, the pose the renderer's camera rig computes from body poses (what the viewer and
 * the pixel render host get) equals mj_forward's cam_xpos / cam_xmat — tracking cameras follow the
 * subtree's centre of mass (trackcom) or the body (track), targeting ones look at their target.
 */
import { describe, expect, it } from 'vitest';
import { loadMujocoModule } from '../../../src-main/sim/mujoco.ts';
import { loadModel } from '../../../src-main/sim/mujoco.ts';
import { resolveEnv } from '../../../src-main/sim/registry.ts';
import { bodyPoses, extractScene } from '../../../src-main/sim/scene.ts';
import { ModelCameraRig, matToQuat, newCameraPose } from '../../../src-renderer/src/scene/model-camera.ts';
import { Rng } from '../../../src-main/util/rng.ts';

/** Rotation angle (rad) between two unit quaternions (w, x, y, z). */
const angle = (a: ArrayLike<number>, b: ArrayLike<number>): number =>
  2 * Math.acos(Math.min(1, Math.abs(a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3])));

// pendulum-swingup sets its masses by hand (a massless pole, a 1 kg bob): the scene has no masses,
// so its targetbodycom camera looks at the geoms' centre of volume instead (see model-camera.ts).
const EXACT = ['cheetah-run', 'walker-walk', 'hopper-stand', 'cartpole-swingup', 'reacher-easy', 'finger-spin', 'pendulum'];

describe('model cameras follow MuJoCo', () => {
  it.each(EXACT)('%s: every camera at random states', async (id) => {
    const mj = await loadMujocoModule();
    const env = resolveEnv(id);
    const model = loadModel(mj, env.files, env.xml);
    const data = new mj.MjData(model);
    try {
      const scene = extractScene(mj, model);
      const rig = new ModelCameraRig(scene);
      const rng = new Rng(7);
      const pose = newCameraPose();
      const q = new Float64Array(4);
      const qpos0 = Float64Array.from(model.qpos0 as Float64Array);
      for (let trial = 0; trial < 5; trial++) {
        const qpos = data.qpos as Float64Array;
        for (let k = 0; k < model.nq; k++) qpos[k] = qpos0[k] + (trial === 0 ? 0 : (rng.uniform() - 0.5) * 1.5);
        mj.mj_forward(model, data);
        const poses = bodyPoses(mj, model, [Array.from(qpos)]);
        const camXpos = data.cam_xpos as Float64Array;
        const camXmat = data.cam_xmat as Float64Array;
        scene.cameras.forEach((cam, i) => {
          rig.pose(cam, poses, 0, pose);
          const where = `${cam.name} (${cam.mujocoMode}), trial ${trial}`;
          for (let k = 0; k < 3; k++) expect(pose.position[k], where).toBeCloseTo(camXpos[3 * i + k], 4);
          const m = camXmat.subarray(9 * i, 9 * i + 9);
          matToQuat(m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], q);
          expect(angle(pose.quaternion, q), where).toBeLessThan(1e-3);
        });
      }
      if (id === 'cheetah-run') {
        // The point: a trackcom camera is not at the torso's origin plus an offset.
        const side = scene.cameras.findIndex((c) => c.mujocoMode === 'trackcom');
        expect(side).toBeGreaterThanOrEqual(0);
      }
    } finally {
      data.delete();
      model.delete();
    }
  });

  it('subtree centres of mass match mj_forward for uniform-density models', async () => {
    const mj = await loadMujocoModule();
    const env = resolveEnv('walker-walk');
    const model = loadModel(mj, env.files, env.xml);
    const data = new mj.MjData(model);
    try {
      const scene = extractScene(mj, model);
      const rig = new ModelCameraRig(scene);
      const qpos = data.qpos as Float64Array;
      for (let k = 0; k < model.nq; k++) qpos[k] += Math.sin(k + 1);
      mj.mj_forward(model, data);
      const poses = bodyPoses(mj, model, [Array.from(qpos)]);
      const com = new Float64Array(3);
      const subtreeCom = data.subtree_com as Float64Array;
      for (let b = 1; b < model.nbody; b++) {
        expect(rig.subtreeCom(b, poses, 0, com)).toBe(true);
        for (let k = 0; k < 3; k++) expect(com[k]).toBeCloseTo(subtreeCom[3 * b + k], 4);
      }
      // Masses in proportion to MuJoCo's (one density, however scaled).
      const mass = model.body_mass as Float64Array;
      for (let b = 2; b < model.nbody; b++) expect(rig.mass[b] / rig.mass[1]).toBeCloseTo(mass[b] / mass[1], 6);
    } finally {
      data.delete();
      model.delete();
    }
  });
});
