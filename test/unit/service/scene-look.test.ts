/**
 * Previews as MuJoCo's viewer draws them, checked on the scene model the viewer gets: geom groups
 * 3-5 hidden (simulate's default), colours picked as MuJoCo's renderer picks them (a black material
 * is black; a geom's own rgba beats its material's), a mesh's PNG texture with its texture
 * coordinates, the skybox, and a default camera that fits tall models whole and small ones large.
 */
import { describe, expect, it } from 'vitest';
import { loadMujocoModule } from '../../../src-main/sim/mujoco.ts';
import { loadModel } from '../../../src-main/sim/mujoco.ts';
import { resolveEnv } from '../../../src-main/sim/registry.ts';
import { bodyPoses, extractScene } from '../../../src-main/sim/scene.ts';
import { framesToPng } from '../../../src-main/render/png.ts';
import type { SceneModel } from '../../../src-main/api/scene.ts';
import { frameBounds, geomShown, modelBounds, orbitAxes, type Bounds } from '../../../src-renderer/src/scene/framing.ts';

/** A 4x2 PNG: red, green, blue, white over black, grey, yellow, cyan. */
const PIXELS = [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 128, 128, 128, 255, 255, 0, 0, 255, 255];
const PNG = new Uint8Array(framesToPng(Uint8Array.from(PIXELS), 4, 2));

/** A Menagerie-style robot: visual meshes in group 2 with materials (one black, one textured), collision geoms in group 3, a skybox. */
const ROBOT = `<mujoco model="robot">
  <asset>
    <texture name="sky" type="skybox" builtin="gradient" rgb1=".4 .6 .8" rgb2="0 0 0" width="256" height="256"/>
    <texture name="paint" type="2d" file="paint.png"/>
    <material name="black" rgba="0 0 0 1" specular="0.2" shininess="0.1"/>
    <material name="painted" texture="paint"/>
    <mesh name="tri" vertex="0 0 0  .2 0 0  0 .2 0  0 0 .2" texcoord="0 0  1 0  0 1  1 1"/>
  </asset>
  <worldbody>
    <geom name="floor" type="plane" size="0 0 .1"/>
    <body name="base" pos="0 0 .5">
      <freejoint/>
      <geom name="shell" type="mesh" mesh="tri" material="painted" group="2" contype="0" conaffinity="0"/>
      <geom name="body_visual" type="box" size=".1 .1 .1" material="black" group="2" contype="0" conaffinity="0"/>
      <geom name="red_over_black" type="sphere" size=".05" material="black" rgba="1 0 0 1" group="1"/>
      <geom name="plain" type="sphere" size=".05" pos="0 0 .2"/>
      <geom name="body_collision" type="box" size=".12 .12 .12" group="3"/>
    </body>
  </worldbody>
</mujoco>`;

async function robotScene(): Promise<SceneModel> {
  const mj = await loadMujocoModule();
  const model = loadModel(
    mj,
    [
      { name: 'robot.xml', content: ROBOT },
      { name: 'paint.png', content: PNG },
    ],
    'robot.xml',
  );
  try {
    return extractScene(mj, model);
  } finally {
    model.delete();
  }
}

const geom = (scene: SceneModel, name: string) => scene.geoms.find((g) => g.name === name)!;
const bytes = (b64: string): Uint8Array => new Uint8Array(Buffer.from(b64, 'base64'));

describe('the scene model as MuJoCo draws it', () => {
  it('hides geom groups 3 and up, as simulate does by default', async () => {
    const scene = await robotScene();
    expect(geom(scene, 'body_collision').group).toBe(3);
    expect(scene.geoms.filter(geomShown).map((g) => g.name)).toEqual(['floor', 'shell', 'body_visual', 'red_over_black', 'plain']);
  });

  it("picks colours as MuJoCo's renderer does: a black material is black, a geom's own rgba wins, the material's lighting travels", async () => {
    const scene = await robotScene();
    expect(geom(scene, 'body_visual').rgba).toEqual([0, 0, 0, 1]);
    expect(geom(scene, 'body_visual')).toMatchObject({ material: 'black' });
    expect(geom(scene, 'body_visual').specular).toBeCloseTo(0.2, 6);
    expect(geom(scene, 'body_visual').shininess).toBeCloseTo(0.1, 6);
    expect(geom(scene, 'red_over_black').rgba).toEqual([1, 0, 0, 1]);
    expect(geom(scene, 'plain').rgba.map((x) => +x.toFixed(3))).toEqual([0.5, 0.5, 0.5, 1]);
  });

  it("carries a mesh material's PNG texture with the mesh's texture coordinates", async () => {
    const scene = await robotScene();
    const shell = geom(scene, 'shell');
    expect(shell.texture).toBeDefined();
    const tex = scene.textures![shell.texture!];
    expect(tex).toMatchObject({ name: 'paint', kind: '2d', width: 4, height: 2 });
    // MuJoCo's pixels, row 0 first, as the PNG has them.
    expect(Array.from(bytes(tex.rgb))).toEqual(PIXELS);
    const mesh = scene.meshes[shell.mesh!];
    expect(mesh.uv).toHaveLength(mesh.faces.length * 2);
    expect(mesh.uv!.every((u) => u >= 0 && u <= 1)).toBe(true);
    // Untextured geoms carry none.
    expect(geom(scene, 'body_visual').texture).toBeUndefined();
  });

  it('carries the skybox: six faces, the top one (+y, as OpenGL cube maps) rgb1, the bottom rgb2', async () => {
    const scene = await robotScene();
    expect(scene.skybox).toBeDefined();
    const sky = scene.textures![scene.skybox!];
    expect(sky.kind).toBe('skybox');
    expect(sky.height).toBe(6 * sky.width);
    expect(sky.width).toBeLessThanOrEqual(128);
    const px = bytes(sky.rgb);
    const faceMean = (f: number): number[] => {
      const n = sky.width * sky.width;
      const sum = [0, 0, 0];
      for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) sum[c] += px[(f * n + i) * 3 + c];
      return sum.map((x) => x / n / 255);
    };
    expect(faceMean(2)[2]).toBeGreaterThan(0.6);
    expect(faceMean(3)[2]).toBeLessThan(0.2);
  });
});

/** Every corner of `b` seen from the orbit camera: its offsets across and up the view over its depth, as shares of the half-view. */
function cornerShares(
  b: Bounds,
  fit: { target: number[]; distance: number },
  fovy: number,
  aspect: number,
  az: number,
  el: number,
): { x: number; y: number }[] {
  const { right, up, back } = orbitAxes(az, el);
  const tanV = Math.tan(((fovy / 2) * Math.PI) / 180);
  return Array.from({ length: 8 }, (_, c) => {
    const d = [0, 1, 2].map((k) => ((c >> k) & 1 ? b.max[k] : b.min[k]) - fit.target[k]);
    const dot = (v: number[]) => d[0] * v[0] + d[1] * v[1] + d[2] * v[2];
    const depth = fit.distance - dot(back);
    return { x: Math.abs(dot(right)) / depth / (tanV * aspect), y: Math.abs(dot(up)) / depth / tanV };
  });
}

describe('the default camera frames the model', () => {
  const view = { fovy: 45, aspect: 1.5, azimuth: -90, elevation: 16 };
  const framed = (scene: SceneModel, poses: Float32Array) => {
    const b = modelBounds(scene, poses)!;
    const fit = frameBounds(b, view);
    const shares = cornerShares(b, fit, view.fovy, view.aspect, view.azimuth, view.elevation);
    return { b, fit, widest: Math.max(...shares.map((s) => Math.max(s.x, s.y))) };
  };

  it.each([
    ['a 2 m tall pole', '<capsule fromto="0 0 0 0 0 2" size=".05"/>'],
    ['a 4 cm die', '<box size=".02 .02 .02"/>'],
    ['a 10 m long rail', '<box size="5 .05 .05"/>'],
  ])('%s: whole in the view and filling it (widest corner at 85 %%)', async (_name, shape) => {
    const mj = await loadMujocoModule();
    const xml = `<mujoco><worldbody><geom type="plane" size="0 0 1"/><body pos="3 1 0"><joint type="slide"/><geom type="${shape.slice(1, shape.indexOf(' '))}" ${shape.slice(shape.indexOf(' ') + 1, -2)}/></body></worldbody></mujoco>`;
    const model = loadModel(mj, [{ name: 'm.xml', content: xml }], 'm.xml');
    try {
      const scene = extractScene(mj, model);
      const { b, fit, widest } = framed(scene, bodyPoses(mj, model, [Array.from(model.qpos0 as Float64Array)]));
      expect(widest).toBeCloseTo(0.85, 3);
      // The plane (infinite) is left out; the orbit looks at the shape's centre.
      expect(b.max[0] - b.min[0]).toBeLessThan(11);
      expect(fit.target[0]).toBeCloseTo(3, 6);
    } finally {
      model.delete();
    }
  });

  it.each(['walker2d-v5', 'ant-v5', 'reacher-easy', 'cheetah-run'])('%s: whole in the view at its reset pose', async (id) => {
    const mj = await loadMujocoModule();
    const env = resolveEnv(id);
    const model = loadModel(mj, env.files, env.xml);
    try {
      const scene = extractScene(mj, model);
      const { widest, b } = framed(scene, bodyPoses(mj, model, [Array.from(model.qpos0 as Float64Array)]));
      expect(widest).toBeCloseTo(0.85, 3);
      expect(b.min.every(Number.isFinite)).toBe(true);
    } finally {
      model.delete();
    }
  });
});
