/**
 * What every backend command needs before it acts: the effective settings (config + flags) and the selected
 * backend. The plan request for `load` also takes its defaults from the config (memmap, profile, page size,
 * module path, loader.conf, env), flags winning key by key.
 */
import type {EffectiveConfig} from '../config/merge-config.js';
import {selectBackend, type SelectedBackend} from '../backend/select.js';
import type {PlanRequest} from '../pipeline/plan-files.js';
import {loadSettings} from './settings.js';

export interface BackendFlagValues {
  config?: string;
  backend?: 'native' | 'sim' | 'qemu';
  arch?: 'amd64' | 'arm64';
  'state-dir'?: string;
  memmap?: string;
  profile?: string;
}

export async function commandContext(f: BackendFlagValues): Promise<SelectedBackend & {settings: EffectiveConfig}> {
  const settings = await loadSettings(f.config, {
    backend: f.backend,
    stateDir: f['state-dir'],
    memmap: f.memmap,
    profile: f.profile,
  });
  return {...(await selectBackend(settings, f.arch === undefined ? {} : {arch: f.arch})), settings};
}

/** Config values for planning keys the command line left out. */
export function withConfigDefaults(req: PlanRequest, s: EffectiveConfig): PlanRequest {
  const env = new Map<string, string>(Object.entries(s.env.value));
  for (const [k, v] of req.env ?? []) env.set(k, v);
  return {
    ...req,
    ...(req.memmap === undefined && req.profile === undefined && s.memmap.value !== undefined ? {memmap: s.memmap.value} : {}),
    ...(req.memmap === undefined && req.profile === undefined && s.memmap.value === undefined && s.profile.value !== undefined ? {profile: s.profile.value} : {}),
    ...(req.pageSize === undefined && s.pageSize.source !== 'default' ? {pageSize: s.pageSize.value} : {}),
    ...(req.modulePath === undefined && s.modulePath.value !== undefined ? {modulePath: s.modulePath.value.join(';')} : {}),
    ...(req.loaderConf === undefined && s.loaderConf.value !== undefined ? {loaderConf: [s.loaderConf.value]} : {}),
    ...(env.size > 0 ? {env} : {}),
  };
}
