/**
 * Environment methods of StudioApi: the suite and the user's library, a 3D preview of any env, and
 * drag-in validation and adding, all through sim/registry so the CLI and the studio agree.
 */
import type { EnvCheck, EnvListEntry, EnvPreview, InFile } from '../api/studio-api.ts';
import type { EnvStarter } from '../api/task-spec.ts';
import { existsSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  addUserEnv,
  fileSetProblem,
  listEnvIds,
  listEnvs,
  parseTaskSpec,
  pickEnvFiles,
  resolveEnvId,
  validateEnvFiles,
} from '../sim/registry.ts';
import { UserError } from '../util/errors.ts';
import { MujocoEnv, type EnvSource } from '../sim/env.ts';
import { loadMujocoModule } from '../sim/mujoco.ts';
import { asText, type EnvFile } from '../sim/files.ts';
import { bareModel, starterFor } from '../sim/scaffold.ts';
import { encodeF32, toEnvFiles } from './encode.ts';

export class EnvService {
  /** listEnvs compiles every model; the answer only changes when the library does. */
  private cache: Promise<EnvListEntry[]> | null = null;

  list(): Promise<EnvListEntry[]> {
    this.cache ??= listEnvs().catch((e: unknown) => {
      this.cache = null;
      throw e;
    });
    return this.cache;
  }

  /** By id only: over the API envs are ids (sim/registry.ts resolveEnvId). */
  async preview(id: string): Promise<EnvPreview> {
    const env = resolveEnvId(id);
    return previewOf(env, env.origin);
  }

  /**
   * Validates dropped files. A bare MJCF (no task spec among them) gets what `rl-studio envs init`
   * gives: compiled, its elements listed, and validated with the starter spec, which comes back in
   * `starter` so the studio can show it and add it with the model.
   */
  async validate(files: InFile[]): Promise<EnvCheck> {
    let envFiles = toEnvFiles(files);
    let starter: EnvStarter | undefined;
    const refused = fileSetProblem(envFiles);
    if (refused) return { ok: false, errors: [refused] };
    try {
      const xml = bareModel(envFiles);
      if (xml) {
        starter = await starterFor(envFiles, xml);
        envFiles = [...envFiles, { name: starter.specFile, content: starter.specText }];
      }
    } catch (e) {
      if (e instanceof UserError) return { ok: false, errors: e.details };
      throw e;
    }
    const checked = await this.validateFiles(envFiles);
    return starter ? { ...checked, starter } : checked;
  }

  private async validateFiles(envFiles: EnvFile[]): Promise<EnvCheck> {
    const v = await validateEnvFiles(envFiles);
    if (!v.ok || !v.info) return v;
    const pick = pickEnvFiles(envFiles);
    const specFile = envFiles.find((f) => f.name === pick.spec)!;
    const source: EnvSource = {
      id: v.info.id,
      xml: pick.xml,
      specFile: pick.spec,
      spec: parseTaskSpec(pick.spec, asText(specFile.content)),
      files: envFiles,
    };
    return { ...v, preview: await previewOf(source, 'path') };
  }

  async add(files: InFile[], id?: string): Promise<{ id: string }> {
    const envFiles = toEnvFiles(files);
    const envId = id ?? pickEnvFiles(envFiles).spec.replace(/\.task\.json$/, '');
    const added = await addUserEnv(envFiles, envId);
    this.cache = null;
    return { id: added.id };
  }

  remove(id: string): { id: string } {
    removeUserEnv(id);
    this.cache = null;
    return { id };
  }
}

/**
 * Removes a library env: its folder `<library>/<id>/`, or the flat `<id>.xml` + `<id>.task.json`.
 * Built-in envs are refused. Runs trained on it are untouched: each keeps its own copy of its env.
 */
function removeUserEnv(id: string): void {
  const entry = listEnvIds().find((e) => e.id === id);
  if (!entry) throw new UserError({ field: 'id', message: `no env '${id}' in the library` });
  if (entry.origin !== 'user') throw new UserError({ field: 'id', message: `'${id}' is a built-in env and cannot be removed` });
  const folder = join(entry.dir, id);
  if (existsSync(folder) && statSync(folder).isDirectory()) rmSync(folder, { recursive: true, force: true });
  else for (const name of [`${id}.xml`, `${id}.task.json`]) rmSync(join(entry.dir, name), { force: true });
}

/** The env after reset(0): its scene, initial body poses and summary. */
async function previewOf(
  source: EnvSource & { name?: string; description?: string },
  origin: 'builtin' | 'user' | 'path',
): Promise<EnvPreview> {
  const mj = await loadMujocoModule();
  const env = new MujocoEnv(mj, source);
  try {
    env.reset(0);
    const info = env.info;
    return {
      summary: {
        id: source.id,
        name: source.name ?? source.spec.name,
        source: origin,
        obsSize: info.obs.size,
        actionSize: info.action.size,
        episodeLength: info.episodeLength,
        frameSkip: info.frameSkip,
        controlTimestep: info.controlTimestep,
        description: source.description ?? source.spec.description,
        ...(source.spec.camera ? { camera: source.spec.camera } : {}),
        obsParts: info.obs.parts,
        actuators: info.action.names,
      },
      scene: env.scene(),
      poses: encodeF32(env.bodyPoses()),
    };
  } finally {
    env.dispose();
  }
}
