/**
 * What every backend command needs before it acts: the effective settings (config + flags) and the selected
 * backend.
 */
import type {EffectiveConfig} from '../config/merge-config.js';
import {selectBackend, type SelectedBackend} from './select-backend.js';
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

export {withConfigDefaults} from './plan-defaults.js';
