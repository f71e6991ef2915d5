/**
 * The effective settings of one command: --config or the searched config file, overridden by flags. Commands
 * call this once; everything downstream gets plain values with their origin.
 */
import {Flags} from '@oclif/core';
import {loadConfig} from '../config/load-config.js';
import {mergeConfig, type ConfigOverrides, type EffectiveConfig} from '../config/merge-config.js';

export const configFlag = {
  config: Flags.string({description: 'configuration file (JSON or YAML); default: searched from the current directory, then /usr/local/etc/kexec-ts.{json,yaml}', helpValue: 'PATH'}),
};

export const backendFlags = {
  ...configFlag,
  backend: Flags.option({options: ['native', 'sim', 'qemu'] as const, description: 'native (FreeBSD kexec_load), sim (the simulated machine) or qemu (boot the plan in an emulator); default native on FreeBSD, sim elsewhere'})(),
  arch: Flags.option({options: ['amd64', 'arm64'] as const, description: 'qemu: the emulated machine (default arm64 with --profile arm64-virt-2g, else amd64)'})(),
  'state-dir': Flags.string({description: 'sim: state directory (default /var/db/kexec-ts as root, else ~/.local/state/kexec-ts)', helpValue: 'DIR'}),
};

export async function loadSettings(configPath: string | undefined, overrides: ConfigOverrides): Promise<EffectiveConfig> {
  const loaded = await loadConfig(configPath === undefined ? {} : {explicitPath: configPath});
  return mergeConfig(loaded, overrides);
}
