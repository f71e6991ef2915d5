/**
 * The kernel environment of the new boot, assembled the way the loader would have built it on this host, each
 * variable with where it came from. Layers, later ones winning:
 *   1. carried: the running kernel's environment (kenv), what the loader set at the last boot plus runtime changes;
 *      minus what describes that boot and is recomputed (kernelname, kernel, kernel_path, module_path,
 *      vfs.root.mountfrom[.options], currdev when the root changes), the one-shot boot flags (boot_single,
 *      boot_verbose, ... : a `boot -s` of the last boot is not repeated; the console flags boot_serial,
 *      boot_multicons and boot_mute, which the EFI loader derives from the firmware's ConOut, are kept),
 *      loader_conf_files (never exported by config.lua), and the _N copies init_dynamic_kenv_from makes of
 *      duplicated names (sys/kern/kern_environment.c);
 *   2. computed where unset: the root file system (stand/common/boot.c getrootmount: only when not already set),
 *      acpi.rsdp and hint.acpi.0.rsdp from machdep.acpi_root;
 *   3. the loader configuration (loader.conf chain), module keys included;
 *   4. computed always: what loading the kernel sets (kernelname by load_elf.c; module_path and kernel_path by
 *      config.lua loadKernel);
 *   5. the kernel's arguments (kernel_options, --kernel-options): NAME=VALUE words and -S<speed> set variables
 *      (sys/kern/subr_boot.c boot_parse_cmdline, run by bi_getboothowto at boot);
 *   6. --howto flags exported as boot_*="YES" (boot_howto_to_env, as the loader does for command-line flags);
 *   7. the user's variables (config `env`, --env-file, --env): never replaced by anything else.
 * The result is refused when the kernel would drop part of it (kern_environment.c init_dynamic_kenv_from): more than
 * KENV_SIZE (512) strings, a "name=value" longer than KENV_MNAMELEN + 1 + kenv_mvallen bytes, or a name longer than
 * KENV_MNAMELEN (128, sys/sys/kenv.h), which kenv(2) could never look up.
 */
import {KexecError} from '../../errors.js';
import type {KenvEntry} from '../types.js';
import {KENV_SIZE, checkEnvVariable, checkKernelArgs, envToHowto, howtoToEnv, parseBootArgs, sortEnvNames} from './boot-env.js';

export interface SourcedVar {
  readonly name: string;
  readonly value: string;
  readonly source: string;
}

export interface EnvironmentInput {
  /** kenv of the running system (empty with --no-inherit). */
  readonly carried: readonly SourcedVar[];
  /** Layer 2: set only when nothing else sets them. */
  readonly defaults: readonly SourcedVar[];
  /** Layer 3. */
  readonly config: readonly SourcedVar[];
  /** Layer 4. */
  readonly loaded: readonly SourcedVar[];
  /** Names recomputed for this boot: dropped from the carried layer even when no later layer sets them. */
  readonly recomputed: readonly string[];
  /** Layer 5. */
  readonly kernelArgs?: {readonly text: string; readonly source: string};
  /** Layer 6: --howto, parsed. */
  readonly howto?: {readonly howto: number; readonly env: readonly (readonly [string, string])[]};
  /** Layer 7. */
  readonly user: readonly SourcedVar[];
}

export interface BootEnvironment {
  /** Sorted as the loader's environment is (byte-wise by name). */
  readonly env: readonly KenvEntry[];
  readonly howto: number;
  /** Carried variables that dropped out, with the reason, for the checklist. */
  readonly dropped: readonly {readonly name: string; readonly why: string}[];
}

export const KENV_MNAMELEN = 128;
export const KENV_MVALLEN = 128;

const ONE_SHOT = new Set(['boot_askname', 'boot_cdrom', 'boot_ddb', 'boot_dfltroot', 'boot_gdb', 'boot_pause', 'boot_single', 'boot_verbose']);

/** Why a carried variable is not carried, or undefined when it is. */
function dropReason(v: SourcedVar, all: ReadonlySet<string>, recomputed: ReadonlySet<string>): string | undefined {
  if (recomputed.has(v.name)) return 'recomputed for this boot';
  if (ONE_SHOT.has(v.name)) return 'a one-shot boot flag of the last boot';
  if (v.name === 'loader_conf_files') return 'never exported by the loader (config.lua loader_env_restricted_table)';
  const dup = /^(.+)_[0-9]+$/.exec(v.name);
  if (dup !== null && all.has(dup[1] as string)) return `a duplicate the kernel renamed (kern_environment.c: ${dup[1] as string} was set twice)`;
  return undefined;
}

export function assembleEnvironment(input: EnvironmentInput): BootEnvironment {
  const env = new Map<string, KenvEntry>();
  const put = (name: string, value: string, source: string): void => void env.set(name, {name, value, source});
  const names = new Set(input.carried.map((v) => v.name));
  const recomputed = new Set(input.recomputed);
  const dropped: {name: string; why: string}[] = [];
  for (const v of input.carried) {
    const why = dropReason(v, names, recomputed);
    if (why === undefined) put(v.name, v.value, v.source);
    else dropped.push({name: v.name, why});
  }
  const setByConfigOrUser = new Set([...input.config, ...input.user].map((v) => v.name));
  for (const v of input.defaults) if (!setByConfigOrUser.has(v.name) && !env.has(v.name)) put(v.name, v.value, v.source);
  for (const v of input.config) put(v.name, v.value, v.source);
  for (const v of input.loaded) put(v.name, v.value, v.source);
  let howto = 0;
  if (input.kernelArgs !== undefined && input.kernelArgs.text.trim() !== '') {
    checkKernelArgs(input.kernelArgs.text, input.kernelArgs.source);
    const args = parseBootArgs(input.kernelArgs.text);
    howto |= args.howto;
    for (const [k, v] of args.env) put(k, v, `${input.kernelArgs.source} (kernel argument)`);
  }
  if (input.howto !== undefined) {
    howto |= input.howto.howto;
    for (const [k, v] of input.howto.env) put(k, v, '--howto');
    for (const [k, v] of howtoToEnv(input.howto.howto)) put(k, v, '--howto');
  }
  for (const v of input.user) put(v.name, v.value, v.source);
  const plain = new Map([...env.values()].map((e) => [e.name, e.value]));
  howto |= envToHowto(plain);
  const sorted = sortEnvNames(env.keys()).map((n) => env.get(n) as KenvEntry);
  checkLimits(sorted);
  return {env: sorted, howto, dropped};
}

function checkLimits(env: readonly KenvEntry[]): void {
  for (const e of env) checkEnvVariable(e.name, e.value, e.source ?? 'environment');
  const mvallen = Number(env.find((e) => e.name === 'kenv_mvallen')?.value);
  const limit = KENV_MNAMELEN + 1 + (Number.isSafeInteger(mvallen) && mvallen > 0 ? mvallen : KENV_MVALLEN);
  for (const e of env) {
    const nameBytes = Buffer.byteLength(e.name, 'utf8');
    if (nameBytes > KENV_MNAMELEN) {
      throw new KexecError('plan', `environment variable ${e.name.slice(0, 40)}... (${e.source ?? ''}): its name is ${nameBytes} bytes, more than KENV_MNAMELEN (${KENV_MNAMELEN}, sys/sys/kenv.h)`, {reason: 'kenv-too-long'});
    }
    const bytes = Buffer.byteLength(`${e.name}=${e.value}`, 'utf8');
    if (bytes > limit) {
      throw new KexecError('plan', `environment variable ${e.name} (${e.source ?? ''}): "name=value" is ${bytes} bytes; the kernel drops strings over ${limit} (KENV_MNAMELEN + 1 + kenv_mvallen, sys/kern/kern_environment.c)`, {
        reason: 'kenv-too-long', hint: 'shorten the value, or raise the kenv_mvallen tunable',
      });
    }
  }
  if (env.length > KENV_SIZE) {
    throw new KexecError('plan', `the kernel environment has ${env.length} variables; the kernel keeps at most KENV_SIZE (${KENV_SIZE}, sys/kern/kern_environment.c), together with its own static environment`, {
      reason: 'kenv-too-many', hint: 'drop variables, or start clean with --no-inherit',
    });
  }
}
