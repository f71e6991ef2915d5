/**
 * The whole planning pipeline for one command line: read the image and modules, pick the memory map, page size
 * and image type, build the Image (generic ELF or FreeBSD kernel with modules, environment and trampoline), and
 * plan it. Commands (plan, load) call this and only render what it returns.
 */
import {readFile} from 'node:fs/promises';
import {dirname} from 'node:path';
import {ElfFile} from '../elf/elf-file.js';
import {KexecError} from '../errors.js';
import {DEFAULT_PAGE_SIZE, archName} from '../image/arch.js';
import {elfImage} from '../image/elf-image.js';
import {isFreeBsdKernel} from '../image/freebsd/detect.js';
import {freebsdImage} from '../image/freebsd/freebsd-image.js';
import type {ModuleRequest} from '../image/freebsd/file-set.js';
import {readLoaderConf} from '../image/freebsd/loader-conf.js';
import type {RunningFirmware} from '../image/freebsd/running-firmware.js';
import {DEFAULT_MODULE_PATH, ModuleSearch, parseModulePath} from '../image/freebsd/module-search.js';
import type {Image} from '../image/types.js';
import {loadMemoryMap} from '../plan/map-file.js';
import type {MemoryMap} from '../plan/memory-map.js';
import type {PlacementStrategy} from '../plan/placement.js';
import {plan as planImage} from '../plan/planner.js';
import {PROFILE_NAMES, defaultProfileForMachine, getProfile} from '../plan/profiles.js';
import type {Plan} from '../plan/types.js';

export interface FreeBsdRequest {
  readonly modulePath?: string;
  /** Explicit loader.conf files; undefined = /boot/loader.conf(.local) when running on FreeBSD. */
  readonly loaderConf?: readonly string[];
  readonly env?: ReadonlyMap<string, string>;
  readonly howto?: number;
  readonly kernelOptions?: string;
  readonly symbols?: boolean;
  readonly efiMap?: string;
  readonly smap?: string;
  readonly dtb?: string;
  readonly fwHandle?: bigint;
  /** The running system's memory description, used when --efi-map/--smap are not given (native loads). */
  readonly runningFirmware?: RunningFirmware;
}

export interface PlanRequest extends FreeBsdRequest {
  readonly image: string;
  readonly modules: readonly string[];
  readonly imageType?: 'auto' | 'freebsd' | 'elf';
  readonly memmap?: string;
  readonly profile?: string;
  /** A memory map already chosen (a backend's), used when memmap and profile are not given. */
  readonly memoryMap?: MemoryMap;
  readonly pageSize?: bigint;
  readonly useVaddr?: boolean;
  readonly entry?: bigint;
  readonly placement?: PlacementStrategy;
  readonly min?: bigint;
  readonly max?: bigint;
  /** The image, when the caller has already read it. */
  readonly elf?: ElfFile;
}

export interface PlanResult {
  readonly plan: Plan;
  readonly elf: ElfFile;
}

/** The memory map: --memmap, else --profile, else the caller's, else the default profile for the machine. */
export async function chooseMemoryMap(req: Pick<PlanRequest, 'memmap' | 'profile' | 'memoryMap'>, machine: number): Promise<{map: MemoryMap; pageSize?: bigint}> {
  if (req.memmap !== undefined && req.profile !== undefined) {
    throw new KexecError('usage', '--memmap and --profile both name a memory map; give one', {reason: 'usage'});
  }
  if (req.memmap !== undefined) return {map: await loadMemoryMap(req.memmap)};
  if (req.profile === undefined && req.memoryMap !== undefined) return {map: req.memoryMap};
  const profile = req.profile !== undefined ? getProfile(req.profile) : defaultProfileForMachine(machine);
  if (profile === undefined) {
    throw new KexecError('usage', `no built-in memory map for machine ${machine}: give --memmap FILE or --profile NAME (${PROFILE_NAMES.join(', ')})`, {
      reason: 'no-memory-map',
    });
  }
  return {map: profile.memoryMap, pageSize: profile.pageSize};
}

async function readOptional(flag: string, path: string | undefined): Promise<Uint8Array | undefined> {
  if (path === undefined) return undefined;
  try {
    return await readFile(path);
  } catch (e) {
    throw new KexecError('usage', `${flag} ${path}: cannot be read (${(e as NodeJS.ErrnoException).code ?? 'EIO'})`, {reason: 'input-unreadable'});
  }
}

async function buildFreeBsd(elf: ElfFile, req: PlanRequest, map: MemoryMap): Promise<Image> {
  const onFreeBsd = process.platform === 'freebsd';
  const confPaths = req.loaderConf ?? (onFreeBsd ? ['/boot/loader.conf', '/boot/loader.conf.local'] : []);
  const conf = await readLoaderConf(confPaths, req.loaderConf === undefined);
  const modulePath = [dirname(elf.file), ...parseModulePath(req.modulePath ?? conf.modulePath ?? DEFAULT_MODULE_PATH)];
  const env = new Map(conf.env);
  for (const [k, v] of req.env ?? []) env.set(k, v);
  const modules: ModuleRequest[] = [
    ...conf.modules.map((m) => {
      const raw = m.type !== undefined && !/^elf (obj )?module$/.test(m.type) ? m.type : undefined;
      return {arg: m.name, ...(m.flags === undefined ? {} : {args: m.flags}), ...(raw === undefined ? {} : {rawType: raw})};
    }),
    ...req.modules.map((arg) => ({arg})),
  ];
  const kernelOptions = req.kernelOptions ?? conf.kernelOptions;
  const [givenEfi, givenSmap, dtb] = await Promise.all([readOptional('--efi-map', req.efiMap), readOptional('--smap', req.smap), readOptional('--dtb', req.dtb)]);
  const running = givenEfi === undefined && givenSmap === undefined ? req.runningFirmware : undefined;
  const efiMap = givenEfi ?? running?.efiMap;
  const smap = givenSmap ?? running?.smap;
  const image = await freebsdImage(elf, {
    arch: archName(elf.header.machine, elf.is64), modules, search: new ModuleSearch(modulePath), env, howto: req.howto ?? 0,
    ...(kernelOptions === undefined || kernelOptions === '' ? {} : {kernelArgs: kernelOptions}),
    symbols: req.symbols !== false, memoryMap: map,
    ...(efiMap === undefined ? {} : {efiMap}), ...(smap === undefined ? {} : {smap}), ...(dtb === undefined ? {} : {dtb}),
    ...(req.fwHandle === undefined ? {} : {fwHandle: req.fwHandle}),
  });
  const notes = (image.notes ?? []).map((n) => (running !== undefined && /given/.test(n) ? `${n}: ${running.source}` : n));
  return {...image, notes: [...notes, ...conf.ignored]};
}

export async function planFiles(req: PlanRequest): Promise<PlanResult> {
  const elf = req.elf ?? (await ElfFile.open(req.image));
  const {map, pageSize: profilePageSize} = await chooseMemoryMap(req, elf.header.machine);
  const pageSize = req.pageSize ?? profilePageSize ?? DEFAULT_PAGE_SIZE;
  const type = req.imageType ?? 'auto';
  const freebsd = type === 'freebsd' || (type === 'auto' && isFreeBsdKernel(elf));
  if (type === 'freebsd' && elf.header.type !== 2) {
    throw new KexecError('badInput', `${req.image}: --image-type freebsd needs an ET_EXEC kernel`, {reason: 'not-a-kernel'});
  }
  let image: Image;
  if (freebsd) {
    if (req.useVaddr === true || req.entry !== undefined) {
      throw new KexecError('usage', '--use-vaddr and --entry apply to generic ELF images; a FreeBSD kernel is entered through its trampoline', {reason: 'usage'});
    }
    image = await buildFreeBsd(elf, req, map);
  } else {
    if (req.modules.length > 0) {
      throw new KexecError('usage', `${req.image}: modules can only be loaded with a FreeBSD kernel; this is a generic ELF image`, {reason: 'modules-need-freebsd'});
    }
    image = elfImage(elf, map, {pageSize, useVaddr: req.useVaddr === true, entryOverride: req.entry !== undefined});
  }
  const plan = planImage(image, map, {
    pageSize,
    ...(req.placement === undefined ? {} : {strategy: req.placement}),
    ...(req.entry === undefined ? {} : {entry: req.entry}),
    ...(req.min === undefined ? {} : {min: req.min}),
    ...(req.max === undefined ? {} : {max: req.max}),
  });
  return {plan, elf};
}
