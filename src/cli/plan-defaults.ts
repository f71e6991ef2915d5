/**
 * Planning defaults from the config (memmap, profile, page size, module path, loader.conf, env) for the keys the
 * command line left out, flags winning key by key. Kept apart from backend selection so that `plan` does not load
 * the backends it never uses.
 */
import type {EffectiveConfig} from '../config/merge-config.js';
import type {PlanRequest} from '../pipeline/plan-files.js';

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
