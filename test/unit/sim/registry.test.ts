import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addUserEnv, listEnvs } from '../../../src-main/sim/registry.ts';

const XML =
  '<mujoco><worldbody><body><joint name="j"/><geom size=".1"/></body></worldbody><actuator><motor joint="j"/></actuator></mujoco>';
const spec = (episodeLength: number): string =>
  JSON.stringify({
    name: 'tiny',
    episode_length: episodeLength,
    observations: [{ name: 'q', type: 'qpos' }],
    reward: { quantity: { type: 'alive' } },
  });

describe('listEnvs', () => {
  let home: string;
  const saved = process.env.RL_STUDIO_HOME;
  beforeAll(() => {
    home = mkdtempSync(join(tmpdir(), 'rl-studio-'));
    process.env.RL_STUDIO_HOME = home;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.RL_STUDIO_HOME;
    else process.env.RL_STUDIO_HOME = saved;
    rmSync(home, { recursive: true, force: true });
  });

  it('compiles each env once and again only when its files change or it is added anew', async () => {
    const { dir } = await addUserEnv(
      [
        { name: 'tiny.xml', content: XML },
        { name: 'tiny.task.json', content: spec(100) },
      ],
      'tiny',
    );
    const xmlPath = join(dir, 'tiny.xml');
    const stamp = new Date('2026-01-02T03:04:05Z'); // whole seconds: set back exactly below
    utimesSync(xmlPath, stamp, stamp);
    const tiny = async () => (await listEnvs()).find((e) => e.id === 'tiny');
    expect(await tiny()).toMatchObject({ source: 'user', obsSize: 1, episodeLength: 100 });
    expect((await listEnvs()).filter((e) => e.source === 'builtin' && !e.error)).toHaveLength(17);

    // Same size and modification time: the cached summary stands, so the model was not compiled again.
    writeFileSync(xmlPath, XML.replace('<motor joint="j"/>', '<motor joint="k"/>'));
    utimesSync(xmlPath, stamp, stamp);
    expect(await tiny()).toMatchObject({ obsSize: 1, episodeLength: 100 });
    expect((await tiny())?.error).toBeUndefined();

    // A new modification time: compiled again, and MuJoCo's refusal shows.
    utimesSync(xmlPath, stamp, new Date(stamp.getTime() + 5000));
    expect((await tiny())?.error).toMatch(/'k'/);

    // Adding the env anew (same id) replaces its summary; a second env joins the list.
    await addUserEnv(
      [
        { name: 'tiny.xml', content: XML },
        { name: 'tiny.task.json', content: spec(250) },
      ],
      'tiny',
      { overwrite: true },
    );
    expect(await tiny()).toMatchObject({ episodeLength: 250 });
    expect((await tiny())?.error).toBeUndefined();
    await addUserEnv(
      [
        { name: 'other.xml', content: XML },
        { name: 'other.task.json', content: spec(50) },
      ],
      'other',
    );
    expect((await listEnvs()).find((e) => e.id === 'other')).toMatchObject({ source: 'user', episodeLength: 50 });
  });
});
