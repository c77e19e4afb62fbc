/**
 * The Environments view with models as researchers bring them: a bare MJCF dropped (no task spec)
 * gets what `rl-studio envs init` gives — its joints, bodies, sites, sensors and actuators listed and
 * a starter spec that validates — and is added to the library with it; and the 3D previews of suite
 * and Gymnasium envs at 1440x900 as MuJoCo's viewer draws them (skybox, materials, framed camera),
 * saved to test-results/screenshots/ for a person to look at.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { framesToPng } from '../../src-main/render/png.ts';
import { dropFiles, launchBrowser, screenshot, serveStudio, watchErrors, type ServedStudio } from './studio.ts';

/** A bare model: a free torso (black, with a red-and-white textured wedge and a hidden group-3 collision box) with a hinged leg, an unnamed actuator, a site, a touch sensor, a camera and a keyframe. */
const BARE = `<mujoco model="bare">
  <option timestep="0.005"/>
  <asset>
    <texture name="sky" type="skybox" builtin="gradient" rgb1=".4 .6 .8" rgb2="0 0 0" width="64" height="64"/>
    <material name="black" rgba="0 0 0 1"/>
    <texture name="paint" type="2d" file="paint.png"/>
    <material name="painted" texture="paint"/>
    <mesh name="wedge" vertex="0 0 0  .3 0 0  0 .3 0  0 0 .3" texcoord="0 0  1 0  0 1  1 1"/>
  </asset>
  <worldbody>
    <light pos="0 0 3" dir="0 0 -1"/>
    <geom type="plane" size="5 5 .1" rgba=".3 .3 .3 1"/>
    <camera name="side" pos="0 -3 1" xyaxes="1 0 0 0 0 1"/>
    <body name="torso" pos="0 0 .5">
      <freejoint name="root"/>
      <geom type="sphere" size=".1" material="black"/>
      <geom type="box" size=".3 .3 .3" group="3" rgba=".9 .9 .9 1"/>
      <geom type="mesh" mesh="wedge" material="painted" pos=".12 0 0" contype="0" conaffinity="0"/>
      <body name="leg">
        <joint name="hip" axis="0 1 0" range="-1 1"/>
        <geom type="capsule" fromto="0 0 0 0 0 -.3" size=".04"/>
        <site name="foot" pos="0 0 -.3"/>
      </body>
    </body>
  </worldbody>
  <actuator><motor joint="hip" ctrlrange="-1 1" gear="20"/></actuator>
  <sensor><touch name="foot_touch" site="foot"/></sensor>
  <keyframe><key name="stand" qpos="0 0 .5 1 0 0 0 0"/></keyframe>
</mujoco>`;

/** A 2x2 red and white checker: the wedge mesh's texture. */
const PAINT = framesToPng(Uint8Array.from([255, 0, 0, 255, 255, 255, 255, 255, 255, 255, 0, 0]), 2, 2);

/** Port range of this work (47200-47299): the studio under test listens on one of them. */
const PORT = 47211;

describe('environments: a bare MJCF drop and the previews', () => {
  let studio: ServedStudio;
  let browser: Browser;
  let page: Page;
  let errors: string[];

  beforeAll(async () => {
    studio = await serveStudio(['--port', String(PORT)]);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    errors = watchErrors(page);
    await page.goto(studio.url);
    await page.getByText('connected', { exact: true }).waitFor();
    await page.click('[data-nav=envs]');
  });

  afterAll(async () => {
    await browser?.close();
    await studio?.stop();
  });

  it('lists a bare MJCF, offers the starter spec that validates, and adds both to the library', async () => {
    await page.locator('[data-env=cheetah-run]').waitFor();
    await dropFiles(page, [
      { name: 'bare.xml', b64: Buffer.from(BARE).toString('base64') },
      { name: 'paint.png', b64: PAINT.toString('base64') },
    ]);
    await page.locator('[data-drop-result=valid] [data-starter="bare.task.json"]').waitFor();
    const row = (kind: string) => page.locator(`[data-inventory=${kind}]`).textContent();
    await expect(row('joints')).resolves.toContain('root (free) hip (hinge)');
    await expect(row('bodies')).resolves.toContain('world torso leg');
    await expect(row('sites')).resolves.toContain('foot');
    await expect(row('sensors')).resolves.toContain('foot_touch');
    await expect(row('actuators')).resolves.toContain('#0');
    await expect(row('keyframes')).resolves.toContain('stand');
    await page.locator('[data-drop-result=valid] [data-env-preview] canvas').waitFor();
    expect(await page.locator('#env-id').inputValue()).toBe('bare');
    await page.waitForTimeout(1500);
    await screenshot(page, 'envs-drop-bare');
    await page.getByRole('button', { name: 'Add environment' }).click();
    await page.locator('[data-env=bare]').waitFor();
    await expect(page.locator('[data-env=bare]').textContent()).resolves.toContain('user');
    await page.locator('[data-env-preview=bare] canvas').waitFor();
    await page.waitForTimeout(1500);
    await screenshot(page, 'envs-preview-bare');
  });

  it.each(['cheetah-run', 'walker-walk', 'finger-spin', 'hopper-v5', 'ant-v5'])('previews %s at 1440x900', async (id) => {
    await page.click(`[data-env="${id}"]`);
    await page.locator(`[data-env-preview="${id}"] canvas`).waitFor();
    await page.waitForTimeout(1500);
    await screenshot(page, `envs-preview-${id}`);
  });

  it('ran without page errors', () => {
    expect(errors).toEqual([]);
  });
});
