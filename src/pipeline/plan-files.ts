/**
 * The whole planning pipeline for one command line: read the image and modules, choose the target's memory map,
 * page size and firmware tables (flags first, then what the backend knows of its machine, then a built-in
 * profile), pick the image type, build the Image (generic ELF or FreeBSD kernel with modules, environment and
 * trampoline), and plan it. Commands (plan, load) call this and only render what it returns.
 */
import {dirname} from 'node:path';
import type {TargetFacts} from '../backend/types.js';
import {ElfFile} from '../elf/elf-file.js';
import {ET, PT, emName} from '../elf/constants.js';
import {KexecError} from '../errors.js';
import {DEFAULT_PAGE_SIZE, archName} from '../image/arch.js';
import {elfImage} from '../image/elf-image.js';
import type {BootArgs} from '../image/freebsd/boot-env.js';
import {isFreeBsdKernel} from '../image/freebsd/detect.js';
import {parseDtb, parseEfiMap, parseSmap, smapFromXattr} from '../image/freebsd/firmware-blobs.js';
import type {FirmwareTable} from '../image/freebsd/firmware-memory.js';
import {freebsdImage} from '../image/freebsd/freebsd-image.js';
import type {ModuleRequest} from '../image/freebsd/file-set.js';
import {readLoaderConf} from '../image/freebsd/loader-conf.js';
import {DEFAULT_MODULE_PATH, ModuleSearch, parseModulePath} from '../image/freebsd/module-search.js';
import type {Image} from '../image/types.js';
import {INPUT_LIMITS, readInput} from '../io/read-input.js';
import type {MemoryMap} from '../memory/memory-map.js';
import {PROFILE_NAMES, defaultProfileForArch, getProfile} from '../memory/profiles.js';
import type {PlacementStrategy} from '../plan/placement.js';
import {plan as planImage} from '../plan/planner.js';
import type {Plan} from '../plan/types.js';
import {readMemoryMapFile} from './memory-map-file.js';

export interface FreeBsdRequest {
  readonly modulePath?: string;
  /** Explicit loader.conf files; undefined = /boot/loader.conf(.local) when running on FreeBSD. */
  readonly loaderConf?: readonly string[];
  readonly env?: ReadonlyMap<string, string>;
  /** --howto, parsed. */
  readonly howto?: BootArgs;
  readonly kernelOptions?: string;
  readonly symbols?: boolean;
  readonly efiMap?: string;
  readonly smap?: string;
  readonly dtb?: string;
  readonly fwHandle?: bigint;
}

export interface PlanRequest extends FreeBsdRequest {
  readonly image: string;
  readonly modules: readonly string[];
  readonly imageType?: 'auto' | 'freebsd' | 'elf';
  readonly memmap?: string;
  readonly profile?: string;
  readonly pageSize?: bigint;
  readonly useVaddr?: boolean;
  readonly entry?: bigint;
  readonly placement?: PlacementStrategy;
  readonly min?: bigint;
  readonly max?: bigint;
  /** The machine a backend would boot the plan on; used for what the flags leave open. */
  readonly target?: TargetFacts;
  /** The image, when the caller has already read it. */
  readonly elf?: ElfFile;
}

export interface PlanResult {
  readonly plan: Plan;
  readonly elf: ElfFile;
}

interface ChosenMap {
  readonly map: MemoryMap;
  readonly pageSize?: bigint;
  /** The architecture the map belongs to ('any' or undefined when it does not say). */
  readonly arch?: string;
  readonly what: string;
}

/** The memory map: --memmap, else --profile, else the target's, else the default profile for the architecture. */
async function chooseMemoryMap(req: Pick<PlanRequest, 'memmap' | 'profile' | 'target'>, arch: string): Promise<ChosenMap> {
  if (req.memmap !== undefined && req.profile !== undefined) {
    throw new KexecError('usage', '--memmap and --profile both name a memory map; give one', {reason: 'usage'});
  }
  if (req.memmap !== undefined) return {map: await readMemoryMapFile(req.memmap), what: `memory map ${req.memmap}`};
  if (req.profile === undefined && req.target !== undefined) {
    const t = req.target;
    return {map: t.memoryMap, pageSize: t.pageSize, arch: t.arch, what: t.source};
  }
  const profile = req.profile !== undefined ? getProfile(req.profile) : defaultProfileForArch(arch);
  if (profile === undefined) {
    throw new KexecError('usage', `no built-in memory map for ${arch} images: give --memmap FILE or --profile NAME (${PROFILE_NAMES.join(', ')})`, {
      reason: 'no-memory-map',
    });
  }
  return {map: profile.memoryMap, pageSize: profile.pageSize, arch: profile.arch, what: `profile ${profile.name}`};
}

async function readTable(flag: string, path: string | undefined): Promise<Uint8Array | undefined> {
  return path === undefined ? undefined : readInput(path, {what: flag, maxBytes: INPUT_LIMITS.table});
}

/** --efi-map / --smap files, else the target's running firmware, checked and cut to their declared size. */
async function firmwareTables(req: PlanRequest, notes: string[]): Promise<{efiMap?: FirmwareTable; smap?: FirmwareTable; dtb?: Uint8Array}> {
  const [efiBytes, smapBytes, dtbBytes] = await Promise.all([readTable('--efi-map', req.efiMap), readTable('--smap', req.smap), readTable('--dtb', req.dtb)]);
  const out: {efiMap?: FirmwareTable; smap?: FirmwareTable; dtb?: Uint8Array} = {};
  const trailing = (what: string, n: number): void => {
    if (n > 0) notes.push(`${what}: ${n} bytes past the size its header declares were left out`);
  };
  if (efiBytes !== undefined && req.efiMap !== undefined) {
    const b = parseEfiMap(efiBytes, req.efiMap);
    trailing(`--efi-map ${req.efiMap}`, b.trailing);
    out.efiMap = {bytes: b.bytes, source: `--efi-map ${req.efiMap}`};
  }
  if (smapBytes !== undefined && req.smap !== undefined) out.smap = {bytes: parseSmap(smapBytes, req.smap).bytes, source: `--smap ${req.smap}`};
  if (dtbBytes !== undefined && req.dtb !== undefined) {
    const b = parseDtb(dtbBytes, req.dtb);
    trailing(`--dtb ${req.dtb}`, b.trailing);
    out.dtb = b.bytes;
  }
  const running = req.target?.firmware;
  if (out.efiMap === undefined && out.smap === undefined && running !== undefined) {
    if (running.efiMap !== undefined) {
      const b = parseEfiMap(running.efiMap, running.source);
      trailing(running.source, b.trailing);
      out.efiMap = {bytes: b.bytes, source: `the running system's ${running.source}`};
    } else if (running.smapXattr !== undefined) {
      out.smap = {bytes: smapFromXattr(running.smapXattr, running.source).bytes, source: `the running system's ${running.source}`};
    }
  }
  return out;
}

async function buildFreeBsd(elf: ElfFile, req: PlanRequest, map: MemoryMap): Promise<Image> {
  const onFreeBsd = process.platform === 'freebsd';
  const confPaths = req.loaderConf ?? (onFreeBsd ? ['/boot/loader.conf', '/boot/loader.conf.local'] : []);
  const conf = await readLoaderConf(confPaths, req.loaderConf === undefined);
  const modulePath = [dirname(elf.file), ...parseModulePath(req.modulePath ?? conf.modulePath ?? DEFAULT_MODULE_PATH)];
  const env = new Map(conf.env);
  for (const [k, v] of req.howto?.env ?? []) env.set(k, v);
  for (const [k, v] of req.env ?? []) env.set(k, v);
  const modules: ModuleRequest[] = [
    ...conf.modules.map((m) => {
      const raw = m.type !== undefined && !/^elf (obj )?module$/.test(m.type) ? m.type : undefined;
      return {arg: m.name, ...(m.flags === undefined ? {} : {args: m.flags}), ...(raw === undefined ? {} : {rawType: raw})};
    }),
    ...req.modules.map((arg) => ({arg})),
  ];
  const kernelOptions = req.kernelOptions ?? conf.kernelOptions;
  const notes: string[] = [];
  const tables = await firmwareTables(req, notes);
  const image = await freebsdImage(elf, {
    arch: archName(elf.header.machine, elf.is64), modules, search: new ModuleSearch(modulePath), env, howto: req.howto?.howto ?? 0,
    ...(kernelOptions === undefined || kernelOptions === '' ? {} : {kernelArgs: kernelOptions}),
    symbols: req.symbols !== false, memoryMap: map, ...tables,
    ...(req.fwHandle === undefined ? {} : {fwHandle: req.fwHandle}),
  });
  return {...image, notes: [...(image.notes ?? []), ...notes, ...conf.ignored]};
}

/** A program with an interpreter (a dynamically linked userland binary) is not a bootable image. */
function refuseProgram(elf: ElfFile): void {
  const interp = elf.programHeaders.some((p) => p.type === PT.INTERP) ? elf.interpreter() : null;
  if (interp !== null && interp !== '/red/herring') {
    throw new KexecError('plan', `${elf.file}: is a program (PT_INTERP ${JSON.stringify(interp)}), not a bootable image`, {
      reason: 'not-bootable', hint: 'give a kernel or firmware image',
    });
  }
}

export async function planFiles(req: PlanRequest): Promise<PlanResult> {
  const elf = req.elf ?? (await ElfFile.open(req.image));
  const arch = archName(elf.header.machine, elf.is64);
  const chosen = await chooseMemoryMap(req, arch);
  if (chosen.arch !== undefined && chosen.arch !== 'any' && chosen.arch !== arch) {
    throw new KexecError('plan', `${req.image}: an ${arch} image (${emName(elf.header.machine)}) cannot boot on ${chosen.what}, which is ${chosen.arch}`, {
      reason: 'arch-mismatch', hint: `give an ${chosen.arch} kernel, or plan for another machine with --profile`,
    });
  }
  const pageSize = req.pageSize ?? chosen.pageSize ?? DEFAULT_PAGE_SIZE;
  const type = req.imageType ?? 'auto';
  const freebsd = type === 'freebsd' || (type === 'auto' && isFreeBsdKernel(elf));
  if (type === 'freebsd' && elf.header.type !== ET.EXEC) {
    throw new KexecError('badInput', `${req.image}: --image-type freebsd needs an ET_EXEC kernel`, {reason: 'not-a-kernel'});
  }
  let image: Image;
  if (freebsd) {
    if (req.useVaddr === true || req.entry !== undefined) {
      throw new KexecError('usage', '--use-vaddr and --entry apply to generic ELF images; a FreeBSD kernel is entered through its trampoline', {reason: 'usage'});
    }
    image = await buildFreeBsd(elf, req, chosen.map);
  } else {
    if (req.modules.length > 0) {
      throw new KexecError('usage', `${req.image}: modules can only be loaded with a FreeBSD kernel; this is a generic ELF image`, {reason: 'modules-need-freebsd'});
    }
    refuseProgram(elf);
    image = elfImage(elf, {pageSize, useVaddr: req.useVaddr === true, entryOverride: req.entry !== undefined});
  }
  const plan = planImage(image, chosen.map, {
    pageSize,
    ...(req.placement === undefined ? {} : {strategy: req.placement}),
    ...(req.entry === undefined ? {} : {entry: req.entry}),
    ...(req.min === undefined ? {} : {min: req.min}),
    ...(req.max === undefined ? {} : {max: req.max}),
  });
  return {plan, elf};
}
