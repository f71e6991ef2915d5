/**
 * A FreeBSD kernel planned the way its loader would boot it on a host: the loader configuration of the host's root
 * (or of --root DIR, a boot environment mounted with `bectl mount`), the kernel it selects when none is named, the
 * modules loader.conf asks for, the root file system, the kernel environment carried over from the running system
 * and recomputed for this boot, the firmware tables, and the hand-off checklist. Without a host (planning a kernel
 * alone, on Linux say) only what the command line and explicit --loader-conf files say is used, and there is no
 * checklist.
 */
import {dirname, posix, resolve} from 'node:path';
import type {TargetFacts} from '../backend/types.js';
import type {ElfFile} from '../elf/elf-file.js';
import {KexecError} from '../errors.js';
import {kenvValue, sysctlNumber, sysctlValue, type HostFacts} from '../host/host-facts.js';
import {mountAt, parseBootfs, parseMountP, poolDevices} from '../host/mounts.js';
import {archName} from '../image/arch.js';
import type {BootArgs} from '../image/freebsd/boot-env.js';
import {assembleEnvironment, type SourcedVar} from '../image/freebsd/boot-environment.js';
import type {ModuleRequest} from '../image/freebsd/file-set.js';
import {freebsdImage} from '../image/freebsd/freebsd-image.js';
import {handoffChecklist} from '../image/freebsd/handoff-checklist.js';
import {readLoaderConfig, type LoaderConfig} from '../image/freebsd/loader-config.js';
import {DEFAULT_MODULE_PATH, ModuleSearch, parseModulePath} from '../image/freebsd/module-search.js';
import {rootMount, type ZfsRoot} from '../image/freebsd/root-mount.js';
import type {ChecklistItem, Image} from '../image/types.js';
import {RootFs} from '../io/root-fs.js';
import type {MemoryMap} from '../memory/memory-map.js';
import {firmwareTables, type FirmwareFlags} from './firmware-tables.js';

export interface FreeBsdRequest extends FirmwareFlags {
  readonly modulePath?: string;
  /** Explicit loader.conf files: they replace the host's configuration chain. */
  readonly loaderConf?: readonly string[];
  /** The user's variables (config env, --env-file, --env), in order; later ones win. */
  readonly env?: readonly SourcedVar[];
  readonly howto?: BootArgs;
  readonly kernelOptions?: string;
  readonly symbols?: boolean;
  readonly fwHandle?: bigint;
  /** The host the kernel is planned for (--host DIR, or the running system). */
  readonly host?: HostFacts;
  /** --root DIR: the root file system to boot (its /boot and /etc/fstab). */
  readonly root?: string;
  /** false (--no-inherit): start from an empty environment instead of the running kernel's. */
  readonly inherit?: boolean;
  /** Plan even when the checklist has fatal items. */
  readonly force?: boolean;
}

/** The loader's view: where /boot is, and the configuration it reads there. */
export interface LoaderSetup {
  readonly fs: RootFs | undefined;
  readonly config: LoaderConfig;
  readonly get: (name: string) => string | undefined;
}

const EMPTY: LoaderConfig = {env: new Map(), modules: new Map(), files: [], notes: []};

export async function loaderSetup(req: FreeBsdRequest): Promise<LoaderSetup> {
  const fs = req.root !== undefined ? new RootFs(resolve(req.root)) : req.host?.root;
  const kenv = (name: string): string | undefined => (req.host === undefined ? undefined : kenvValue(req.host, name));
  let config = EMPTY;
  if (req.loaderConf !== undefined) config = await readLoaderConfig(new RootFs('/'), kenv, req.loaderConf.map((f) => resolve(f)));
  else if (fs !== undefined) config = await readLoaderConfig(fs, kenv);
  const user = new Map((req.env ?? []).map((v) => [v.name, v.value]));
  return {fs, config, get: (name) => user.get(name) ?? config.env.get(name)?.value};
}

/** The kernel's name as the loader records it: its path inside the root. */
export function kernelNameOf(image: string, root: string | undefined): string {
  if (root === undefined) return resolve(image);
  const r = resolve(root);
  const abs = resolve(image);
  return abs.startsWith(`${r}/`) ? abs.slice(r.length) : posix.normalize(image.startsWith('/') ? image : `/${image}`);
}

/** The dataset of a "zfs:DATASET" vfs.root.mountfrom, or undefined for another file system. */
function zfsDataset(mountfrom: string | undefined): string | undefined {
  return mountfrom?.startsWith('zfs:') === true ? (mountfrom.slice(4).split(/\s+/)[0] ?? '') : undefined;
}

function zfsRoot(host: HostFacts | undefined, rootDir: string | undefined): ZfsRoot | undefined {
  if (host === undefined) return undefined;
  const mounts = host.commands.get('mount-p');
  const status = host.commands.get('zpool-status');
  const devices = (dataset: string): string[] => (status === undefined ? [] : poolDevices(status.value, dataset.split('/')[0] ?? ''));
  const m = mounts === undefined ? undefined : mountAt(parseMountP(mounts.value), rootDir ?? '/');
  if (m !== undefined && m.fstype === 'zfs') return {dataset: m.device, source: `${mounts?.source ?? 'mount -p'} (${m.mountpoint})`, devices: devices(m.device)};
  const dataset = zfsDataset(kenvValue(host, 'vfs.root.mountfrom'));
  if (rootDir === undefined && dataset !== undefined) {
    return {dataset, source: `${host.kenvSource} vfs.root.mountfrom (the running root)`, devices: devices(dataset)};
  }
  // The loader's own boot device: currdev "zfs:DATASET:" (stand/libsa/zfs/zfs.c zfs_fmtdev) is what getrootmount
  // falls back to on ZFS.
  const currdev = /^zfs:([^:]+):$/.exec(kenvValue(host, 'currdev') ?? '');
  if (rootDir === undefined && currdev !== null) {
    return {dataset: currdev[1] as string, source: `${host.kenvSource} currdev (the loader's boot dataset)`, devices: devices(currdev[1] as string)};
  }
  return undefined;
}

/**
 * The root the running system mounted (kenv vfs.root.mountfrom), for a host whose /etc/fstab has no "/" line and
 * that is not on ZFS: a firmware reboot's loader would find none either and the kernel would then try its compiled-in
 * ROOTDEVNAME or ask; booting the same root again is what the admin expects, and the note says where it came from.
 */
function runningRoot(host: HostFacts | undefined): {value: string; options?: string; source: string} | undefined {
  const from = host === undefined ? undefined : kenvValue(host, 'vfs.root.mountfrom');
  if (host === undefined || from === undefined || from === '') return undefined;
  const options = kenvValue(host, 'vfs.root.mountfrom.options');
  return {value: from, ...(options === undefined ? {} : {options}), source: `${host.kenvSource} vfs.root.mountfrom (the running root)`};
}

/** The pool's bootfs names another boot environment than the one planned: a firmware reboot would boot that one. */
function bootfsNote(host: HostFacts | undefined, mountfrom: string | undefined): string | undefined {
  const text = host?.commands.get('zpool-get-bootfs');
  const dataset = zfsDataset(mountfrom);
  if (text === undefined || dataset === undefined) return undefined;
  const bootfs = parseBootfs(text.value).get(dataset.split('/')[0] ?? '');
  if (bootfs === undefined || bootfs === dataset) return undefined;
  return `pool bootfs is ${bootfs} (${text.source}), not ${dataset}: a firmware reboot would boot ${bootfs}; to kexec into it, \`bectl mount\` it and plan with --root`;
}

/** Builds the FreeBSD image for `elf` (named `kernelName` inside the root); throws on fatal checklist items. */
export async function buildFreeBsd(elf: ElfFile, kernelName: string, commandLine: readonly string[], setup: LoaderSetup, req: FreeBsdRequest, map: MemoryMap, target?: TargetFacts): Promise<Image> {
  const {config, get} = setup;
  const host = req.host;
  const arch = archName(elf.header.machine, elf.is64);
  const notes = [...(host?.notes ?? []), ...config.notes];
  const kernelDir = dirname(kernelName);
  const configured = req.modulePath ?? config.env.get('module_path')?.value ?? DEFAULT_MODULE_PATH;
  const modulePath = [kernelDir, ...parseModulePath(configured).filter((d) => d !== kernelDir)].join(';');
  // The new kernel's module_path names directories of its root: a relative --module-path (searched from the working
  // directory, module-search.ts) is handed over absolute, and said once.
  const kernelModulePath = [...new Set(parseModulePath(modulePath).map((d) => (d.startsWith('/') ? d : resolve(d))))].join(';');
  const blacklist = new Set((get('module_blacklist') ?? '').split(/[;, ]+/).filter((n) => n !== ''));
  const modules: ModuleRequest[] = [];
  for (const m of config.modules.values()) {
    const load = m.fields.load;
    if (load === undefined || load.value.toLowerCase() !== 'yes') continue;
    // config.lua loadModule() runs X_before / X_after (and X_error on failure) as loader commands.
    for (const f of ['before', 'after'] as const) {
      const c = m.fields[f];
      if (c !== undefined) notes.push(`${c.source}: ${m.key}_${f}="${c.value}" is a loader command; kexec-ts does not run it`);
    }
    const name = m.fields.name?.value ?? m.key;
    if (blacklist.has(name)) {
      notes.push(`${load.source}: not loading blacklisted module '${name}' (module_blacklist), as the loader does`);
      continue;
    }
    modules.push({arg: name, optional: load.source, ...(m.fields.flags === undefined ? {} : {args: m.fields.flags.value}), ...(m.fields.type === undefined ? {} : {rawType: m.fields.type.value})});
  }
  modules.push(...commandLine.map((arg) => ({arg})));

  const planningHost = host !== undefined || req.root !== undefined;
  const configuredRoot = [...(req.env ?? [])].reverse().find((v) => v.name === 'vfs.root.mountfrom') ?? config.env.get('vfs.root.mountfrom');
  const running = req.root === undefined ? runningRoot(host) : undefined;
  const root = planningHost && setup.fs !== undefined
    ? await rootMount(setup.fs, configuredRoot === undefined ? undefined : {value: configuredRoot.value, source: configuredRoot.source}, zfsRoot(host, req.root === undefined ? undefined : resolve(req.root)), running)
    : undefined;
  if (root !== undefined && root.source === running?.source) notes.push(`the root file system is the running one (${root.mountfrom}, from ${root.source}): ${setup.fs?.describe('/etc/fstab') ?? '/etc/fstab'} names no "/" line`);
  const bootfs = bootfsNote(host, root?.mountfrom);
  if (bootfs !== undefined) notes.push(bootfs);
  const defaults: SourcedVar[] = [];
  if (root !== undefined && configuredRoot === undefined) {
    defaults.push({name: 'vfs.root.mountfrom', value: root.mountfrom, source: root.source});
    if (root.options !== undefined) defaults.push({name: 'vfs.root.mountfrom.options', value: root.options, source: root.source});
  }
  const acpiRoot = host === undefined ? undefined : sysctlNumber(host, 'machdep.acpi_root');
  if (acpiRoot !== undefined && acpiRoot !== 0n) {
    const value = `0x${acpiRoot.toString(16)}`;
    defaults.push({name: 'acpi.rsdp', value, source: 'sysctl machdep.acpi_root'}, {name: 'hint.acpi.0.rsdp', value, source: 'sysctl machdep.acpi_root'});
  }
  const loaded: SourcedVar[] = [{name: 'kernelname', value: kernelName, source: 'the kernel loaded (load_elf.c sets kernelname)'},
    {name: 'module_path', value: kernelModulePath, source: 'the kernel\'s directory, then module_path (config.lua loadKernel)'}];
  const kdir = /^\/boot\/([^/]+)\/[^/]+$/.exec(kernelName);
  if (kdir !== null) {
    loaded.push({name: 'kernel', value: kdir[1] as string, source: 'the kernel\'s directory under /boot'}, {name: 'kernel_path', value: kernelDir, source: 'the kernel\'s directory (config.lua loadKernel)'});
  }
  const kernelOptions = req.kernelOptions ?? config.env.get('kernel_options')?.value;
  const kernelOptionsSource = req.kernelOptions !== undefined ? '--kernel-options' : `kernel_options (${config.env.get('kernel_options')?.source ?? ''})`;
  const environment = assembleEnvironment({
    carried: req.inherit === false || host === undefined ? [] : host.kenv.map((v) => ({name: v.name, value: v.value, source: `${host.kenvSource}:${v.line}`})),
    defaults, loaded, user: req.env ?? [],
    config: [...config.env].filter(([k]) => k !== 'module_path').map(([name, v]) => ({name, value: v.value, source: v.source})),
    recomputed: ['kernelname', 'kernel', 'kernel_path', 'module_path', 'vfs.root.mountfrom', 'vfs.root.mountfrom.options'],
    ...(kernelOptions === undefined || kernelOptions === '' ? {} : {kernelArgs: {text: kernelOptions, source: kernelOptionsSource}}),
    ...(req.howto === undefined ? {} : {howto: req.howto}),
  });
  const tables = await firmwareTables(req, arch, host, target, notes);
  let checklist: ChecklistItem[] | undefined;
  const bootmethod = host === undefined ? undefined : sysctlValue(host, 'machdep.bootmethod');
  // machdep.bootmethod exists on amd64 only; the EFI loader also sets efi-version (efi_init_environment), on arm64 too.
  const efiLoader = host !== undefined && kenvValue(host, 'efi-version') !== undefined;
  const firmware = bootmethod === 'UEFI' || bootmethod === 'BIOS' ? bootmethod : efiLoader || tables.efiMap !== undefined ? 'UEFI' : undefined;
  const image = await freebsdImage(elf, {
    arch, kernelName, modules, search: new ModuleSearch(modulePath, setup.fs ?? new RootFs('/')), env: environment.env, howto: environment.howto,
    ...(kernelOptions === undefined || kernelOptions === '' ? {} : {kernelArgs: kernelOptions}),
    symbols: req.symbols !== false, memoryMap: map,
    ...(tables.efiMap === undefined ? {} : {efiMap: tables.efiMap}), ...(tables.smap === undefined ? {} : {smap: tables.smap}),
    ...(tables.dtb === undefined ? {} : {dtb: tables.dtb.bytes}), ...(req.fwHandle === undefined ? {} : {fwHandle: req.fwHandle}),
    ...(!planningHost ? {} : {checklist: (built) => (checklist = handoffChecklist({
      arch: arch as 'amd64' | 'arm64', env: environment.env, howto: environment.howto, memory: built.memory,
      ...(firmware === undefined ? {} : {firmware}),
      ...(root === undefined ? {} : {root: {mountfrom: root.mountfrom, source: root.source, ...(root.geli === undefined ? {} : {geli: root.geli})}}),
      ...(root?.mountfrom.startsWith('zfs:') === true && !built.files.some((f) => f.provides.some((p) => p.name === 'zfs')) ? {rootModuleMissing: 'zfs'} : {}),
      ...(tables.dtb === undefined ? {} : {dtb: tables.dtb.source}), ...(req.fwHandle === undefined ? {} : {fwHandle: '--fw-handle'}),
      rawTypes: built.files.map((f) => f.type), ...(config.nextboot === undefined ? {} : {nextboot: setup.fs?.describe(config.nextboot) ?? config.nextboot}),
      carried: req.inherit === false ? 0 : (host?.kenv.length ?? 0) - environment.dropped.length, dropped: environment.dropped,
    }))}),
  });
  const fatal = (checklist ?? []).filter((c) => c.status === 'missing' && c.severity === 'fatal');
  if (fatal.length > 0) {
    const what = fatal.map((c) => `${c.title}: ${c.consequence ?? ''}`).join('; ');
    if (req.force !== true) {
      throw new KexecError('plan', `${kernelName}: the new kernel would not come up on ${host?.source ?? 'this root'}: ${what}`, {
        reason: 'handoff-fatal', details: {checklist}, hint: 'fix what is missing, or pass --force to plan anyway',
      });
    }
    notes.push(`--force: planned despite: ${what}`);
  }
  return {...image, notes: [...(image.notes ?? []), ...notes, ...(config.files.length === 0 ? [] : [`loader configuration read from ${config.files.join(', ')}`])]};
}
