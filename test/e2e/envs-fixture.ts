/**
 * Env files for the drag-in tests, as the renderer receives them: a valid pendulum whose bob is a
 * binary STL mesh (exercising base64 files and mesh geoms), and the unknown-names fixture.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DropFile {
  name: string;
  /** base64 of the bytes */
  b64: string;
}

/** A binary STL of a regular tetrahedron with outward-facing triangles. */
function tetraStl(s: number): Buffer {
  const v = [
    [s, s, s],
    [s, -s, -s],
    [-s, s, -s],
    [-s, -s, s],
  ];
  const faces = [
    [0, 1, 2],
    [0, 3, 1],
    [0, 2, 3],
    [1, 3, 2],
  ];
  const buf = Buffer.alloc(84 + faces.length * 50);
  buf.writeUInt32LE(faces.length, 80);
  faces.forEach((f, i) => {
    const [a, b, c] = f.map((k) => v[k]);
    const u = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    const w = [c[0] - a[0], c[1] - a[1], c[2] - a[2]];
    let n = [u[1] * w[2] - u[2] * w[1], u[2] * w[0] - u[0] * w[2], u[0] * w[1] - u[1] * w[0]];
    const centroid = [(a[0] + b[0] + c[0]) / 3, (a[1] + b[1] + c[1]) / 3, (a[2] + b[2] + c[2]) / 3];
    let verts = [a, b, c];
    if (n[0] * centroid[0] + n[1] * centroid[1] + n[2] * centroid[2] < 0) {
      verts = [a, c, b];
      n = n.map((x) => -x);
    }
    const len = Math.hypot(n[0], n[1], n[2]);
    let o = 84 + i * 50;
    for (const x of [...n.map((c) => c / len), ...verts.flat()]) {
      buf.writeFloatLE(x, o);
      o += 4;
    }
  });
  return buf;
}

const MJCF = `<mujoco model="mesh-pendulum">
  <asset>
    <mesh name="bob" file="bob.stl"/>
    <texture name="grid" type="2d" builtin="checker" rgb1=".1 .2 .3" rgb2=".2 .3 .4" width="64" height="64"/>
    <material name="grid" texture="grid" texrepeat="1 1" texuniform="true"/>
  </asset>
  <option timestep="0.01" gravity="0 0 -10"><flag contact="disable"/></option>
  <worldbody>
    <light name="light" pos="0 0 3"/>
    <geom name="floor" size="3 3 .2" type="plane" material="grid"/>
    <camera name="fixed" pos="0 -3.2 1.2" xyaxes="1 0 0 0 0 1"/>
    <body name="pole" pos="0 0 1.2">
      <joint name="hinge" type="hinge" axis="0 1 0"/>
      <geom name="base" type="cylinder" fromto="0 -.05 0 0 .05 0" size="0.04" mass="0" rgba=".3 .5 .7 1"/>
      <geom name="pole" type="capsule" fromto="0 0 0 0 0 1" size="0.04" mass="1" rgba=".7 .5 .3 1"/>
      <geom name="bob" type="mesh" mesh="bob" pos="0 0 1" mass="0.2" rgba=".8 .3 .3 1"/>
    </body>
  </worldbody>
  <actuator>
    <motor name="torque" joint="hinge" gear="2" ctrlrange="-1 1" ctrllimited="true"/>
  </actuator>
</mujoco>
`;

export function validMeshEnv(): DropFile[] {
  return [
    { name: 'mesh-pendulum.xml', b64: Buffer.from(MJCF).toString('base64') },
    { name: 'mesh-pendulum.task.json', b64: readFileSync('resources/envs/pendulum.task.json').toString('base64') },
    { name: 'bob.stl', b64: tetraStl(0.12).toString('base64') },
  ];
}

export function invalidEnv(): DropFile[] {
  const dir = 'test/fixtures/envs/unknown-names';
  return readdirSync(dir).map((n) => ({ name: n, b64: readFileSync(join(dir, n)).toString('base64') }));
}
