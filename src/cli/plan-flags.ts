/**
 * Planning flags shared by `plan` and `load`, and their translation into a PlanRequest.
 */
import {Flags} from '@oclif/core';
import {KexecError} from '../errors.js';
import {INPUT_LIMITS, readTextInput} from '../io/read-input.js';
import {parseHowtoFlag} from '../image/freebsd/boot-env.js';
import type {SourcedVar} from '../image/freebsd/boot-environment.js';
import type {PlanRequest} from '../pipeline/plan-files.js';
import {PROFILE_NAMES} from '../memory/profiles.js';
import {parseBigintFlag} from '../memory/parse-number.js';

export const planFlags = {
  'image-type': Flags.option({options: ['auto', 'freebsd', 'elf'] as const, default: 'auto' as const, description: 'treat IMAGE as a FreeBSD kernel or a generic ELF image (auto: FreeBSD when it carries FreeBSD markers)'})(),
  memmap: Flags.string({description: 'memory map: `sysctl vm.phys_segs` output or a JSON/YAML map file', helpValue: 'FILE'}),
  profile: Flags.string({description: `built-in machine profile (${PROFILE_NAMES.join(', ')})`, helpValue: 'NAME'}),
  'page-size': Flags.string({description: 'page size (default 4K; arm64 kernels may use 16K or 64K)', helpValue: 'SIZE'}),
  'use-vaddr': Flags.boolean({description: 'generic ELF: place PT_LOADs at p_vaddr instead of p_paddr'}),
  entry: Flags.string({description: 'generic ELF: physical entry address, instead of e_entry translated through its PT_LOAD', helpValue: 'ADDR'}),
  placement: Flags.option({options: ['bottom-up', 'top-down'] as const, description: 'where relocatable images go: lowest or highest free RAM'})(),
  min: Flags.string({description: 'lowest physical address a relocatable image may use', helpValue: 'ADDR'}),
  max: Flags.string({description: 'highest physical address (exclusive) a relocatable image may use', helpValue: 'ADDR'}),
  'module-path': Flags.string({description: 'FreeBSD: module directories, ";"-separated (default /boot/kernel;/boot/modules)', helpValue: 'DIRS'}),
  'loader-conf': Flags.string({multiple: true, multipleNonGreedy: true, description: 'FreeBSD: loader.conf file(s) to read (default on FreeBSD: /boot/loader.conf and /boot/loader.conf.local)', helpValue: 'FILE'}),
  env: Flags.string({multiple: true, multipleNonGreedy: true, description: 'FreeBSD: kernel environment variable', helpValue: 'NAME=VALUE'}),
  'env-file': Flags.string({description: 'FreeBSD: file of NAME=VALUE lines for the kernel environment', helpValue: 'FILE'}),
  howto: Flags.string({description: 'FreeBSD: boot flags, e.g. "-s -v" (single user, verbose; -h serial console, -D dual console)', helpValue: 'FLAGS'}),
  'kernel-options': Flags.string({description: 'FreeBSD: kernel arguments (loader.conf kernel_options)', helpValue: 'ARGS'}),
  symbols: Flags.boolean({allowNo: true, default: true, description: 'FreeBSD: append the kernel symbol table (MODINFOMD_SSYM/ESYM)'}),
  'efi-map': Flags.string({description: 'FreeBSD: EFI memory map to pass (e.g. `sysctl -b machdep.efi_map`)', helpValue: 'FILE'}),
  smap: Flags.string({description: 'FreeBSD amd64: BIOS SMAP (packed 20-byte struct bios_smap entries) to pass', helpValue: 'FILE'}),
  dtb: Flags.string({description: 'FreeBSD: device tree blob to pass (e.g. `sysctl -b hw.fdt.dtb`)', helpValue: 'FILE'}),
  'fw-handle': Flags.string({description: 'FreeBSD: physical address of the EFI system table (MODINFOMD_FW_HANDLE)', helpValue: 'ADDR'}),
  host: Flags.string({description: 'FreeBSD: plan for the host described by this snapshot directory (kexec-ts host capture) instead of the running system', helpValue: 'DIR'}),
  root: Flags.string({description: 'FreeBSD: boot the root file system at DIR (a boot environment mounted with bectl mount): its /boot and /etc/fstab', helpValue: 'DIR'}),
  inherit: Flags.boolean({allowNo: true, default: true, description: 'FreeBSD: start from the running kernel\'s environment (kenv); --no-inherit starts clean'}),
  force: Flags.boolean({description: 'FreeBSD: plan even when the hand-off checklist has items whose absence stops the boot'}),
};

export interface PlanFlagValues {
  'image-type'?: 'auto' | 'freebsd' | 'elf';
  memmap?: string;
  profile?: string;
  'page-size'?: string;
  'use-vaddr'?: boolean;
  entry?: string;
  placement?: 'bottom-up' | 'top-down';
  min?: string;
  max?: string;
  'module-path'?: string;
  'loader-conf'?: string[];
  env?: string[];
  'env-file'?: string;
  howto?: string;
  'kernel-options'?: string;
  symbols?: boolean;
  'efi-map'?: string;
  smap?: string;
  dtb?: string;
  'fw-handle'?: string;
  host?: string;
  root?: string;
  inherit?: boolean;
  force?: boolean;
}

function parseAssignment(text: string, where: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new KexecError('usage', `${where}: expected NAME=VALUE, got ${JSON.stringify(text)}`, {reason: 'bad-env'});
  return [text.slice(0, eq).trim(), text.slice(eq + 1)];
}

/** --env-file lines, then --env flags (later wins), each with where it came from. */
async function environmentFromFlags(f: Pick<PlanFlagValues, 'env' | 'env-file'>): Promise<SourcedVar[]> {
  const env: SourcedVar[] = [];
  if (f['env-file'] !== undefined) {
    const text = await readTextInput(f['env-file'], {what: '--env-file', maxBytes: INPUT_LIMITS.text, code: 'usage'});
    text.split('\n').forEach((line, i) => {
      const t = line.replace(/\r$/, '');
      if (/^\s*(#.*)?$/.test(t)) return;
      const [k, v] = parseAssignment(t, `${f['env-file']}:${i + 1}`);
      env.push({name: k, value: v.replace(/^"(.*)"$/, '$1'), source: `--env-file ${f['env-file']}:${i + 1}`});
    });
  }
  for (const e of f.env ?? []) {
    const [k, v] = parseAssignment(e, '--env');
    env.push({name: k, value: v, source: '--env'});
  }
  return env;
}

export async function planRequestFromFlags(image: string | undefined, modules: string[], f: PlanFlagValues): Promise<PlanRequest> {
  const opt = <K extends string, V>(key: K, v: V | undefined): Partial<Record<K, V>> =>
    (v === undefined ? {} : {[key]: v}) as Partial<Record<K, V>>;
  const num = (flag: string, v: string | undefined): bigint | undefined => (v === undefined ? undefined : parseBigintFlag(flag, v));
  const env = await environmentFromFlags(f);
  return {
    ...(image === undefined ? {} : {image}),
    modules,
    ...opt('imageType', f['image-type']),
    ...opt('memmap', f.memmap),
    ...opt('profile', f.profile),
    ...opt('pageSize', num('--page-size', f['page-size'])),
    useVaddr: f['use-vaddr'] === true,
    ...opt('entry', num('--entry', f.entry)),
    ...opt('placement', f.placement),
    ...opt('min', num('--min', f.min)),
    ...opt('max', num('--max', f.max)),
    ...opt('modulePath', f['module-path']),
    ...opt('loaderConf', f['loader-conf']),
    ...(env.length > 0 ? {env} : {}),
    ...opt('howto', f.howto === undefined ? undefined : parseHowtoFlag(f.howto)),
    ...opt('kernelOptions', f['kernel-options']),
    symbols: f.symbols !== false,
    ...opt('efiMap', f['efi-map']),
    ...opt('smap', f.smap),
    ...opt('dtb', f.dtb),
    ...opt('fwHandle', num('--fw-handle', f['fw-handle'])),
    ...opt('root', f.root),
    inherit: f.inherit !== false,
    force: f.force === true,
  };
}
