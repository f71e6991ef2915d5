/**
 * Planning defaults from the config (memmap, profile, page size, module path, loader.conf, env) for the keys the
 * command line left out, flags winning key by key. Kept apart from backend selection so that `plan` does not load
 * the backends it never uses.
 */
import type {EffectiveConfig} from '../config/merge-config.js';
import type {PlanRequest} from '../pipeline/plan-files.js';

/** Config values for planning keys the command line left out. */
export function withConfigDefaults(req: PlanRequest, s: EffectiveConfig): PlanRequest {
  // The config's variables first, so --env-file and --env (later in the list) win over them.
  const source = s.env.source === 'default' ? 'config' : s.env.source;
  const env = [...Object.entries(s.env.value).map(([name, value]) => ({name, value, source: `${source} (env)`})), ...(req.env ?? [])];
  return {
    ...req,
    ...(req.memmap === undefined && req.profile === undefined && s.memmap.value !== undefined ? {memmap: s.memmap.value} : {}),
    ...(req.memmap === undefined && req.profile === undefined && s.memmap.value === undefined && s.profile.value !== undefined ? {profile: s.profile.value} : {}),
    ...(req.pageSize === undefined && s.pageSize.source !== 'default' ? {pageSize: s.pageSize.value} : {}),
    ...(req.modulePath === undefined && s.modulePath.value !== undefined ? {modulePath: s.modulePath.value.join(';')} : {}),
    ...(req.loaderConf === undefined && s.loaderConf.value !== undefined ? {loaderConf: [s.loaderConf.value]} : {}),
    ...(env.length > 0 ? {env} : {}),
  };
}
