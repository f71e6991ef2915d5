/**
 * The whole planning pipeline for one command line: read the image and modules, choose the target's memory map,
 * page size and firmware tables (flags first, then what the backend knows of its machine, then a built-in
 * profile), pick the image type, build the Image (generic ELF or FreeBSD kernel with modules, environment and
 * trampoline), and plan it. Commands (plan, load) call this and only render what it returns.
 */
import type {TargetFacts} from '../backend/types.js';
import {ElfFile} from '../elf/elf-file.js';
import {ET, PT, emName} from '../elf/constants.js';
import {KexecError} from '../errors.js';
import {sysctlNumber, sysctlValue, type HostFacts} from '../host/host-facts.js';
import {DEFAULT_PAGE_SIZE, archName} from '../image/arch.js';
import {elfImage} from '../image/elf-image.js';
import {isFreeBsdKernel} from '../image/freebsd/detect.js';
import {chooseKernel} from '../image/freebsd/kernel-choice.js';
import type {Image} from '../image/types.js';
import type {MemoryMap} from '../memory/memory-map.js';
import {parsePhysSegs} from '../memory/phys-segs.js';
import {PROFILE_NAMES, defaultProfileForArch, getProfile} from '../memory/profiles.js';
import type {PlacementStrategy} from '../plan/placement.js';
import {planHashedInParallel} from '../plan/planner.js';
import type {Plan} from '../plan/types.js';
import {buildFreeBsd, kernelNameOf, loaderSetup, type FreeBsdRequest} from './freebsd-boot.js';
import {readMemoryMapFile} from './memory-map-file.js';

export interface PlanRequest extends FreeBsdRequest {
  /** The kernel or image; undefined: the kernel the loader would boot on the host (FreeBSD only). */
  readonly image?: string;
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

/** A program with an interpreter (a dynamically linked userland binary) is not a bootable image. */
function refuseProgram(elf: ElfFile): void {
  const interp = elf.programHeaders.some((p) => p.type === PT.INTERP) ? elf.interpreter() : null;
  if (interp !== null && interp !== '/red/herring') {
    throw new KexecError('plan', `${elf.file}: is a program (PT_INTERP ${JSON.stringify(interp)}), not a bootable image`, {
      reason: 'not-bootable', hint: 'give a kernel or firmware image',
    });
  }
}

/** A host's own machine, from its facts: architecture, hw.pagesize and vm.phys_segs (undefined without them). */
export function hostTarget(host: HostFacts): TargetFacts | undefined {
  const segs = host.sysctl.get('vm.phys_segs');
  const arch = host.machine ?? sysctlValue(host, 'hw.machine');
  if (segs === undefined || arch === undefined) return undefined;
  return {arch, pageSize: sysctlNumber(host, 'hw.pagesize') ?? DEFAULT_PAGE_SIZE, memoryMap: parsePhysSegs(segs.value.replace(/^\n/, ''), segs.source), source: host.source};
}

/** The image to plan: the one named, or the kernel the loader would boot on the host or root given. */
async function openImage(req: PlanRequest, setup: Awaited<ReturnType<typeof loaderSetup>>): Promise<{elf: ElfFile; name: string}> {
  if (req.elf !== undefined) return {elf: req.elf, name: kernelNameOf(req.elf.file, req.root)};
  if (req.image !== undefined) {
    const host = req.root === undefined ? req.image : setup.fs?.hostPath(kernelNameOf(req.image, req.root)) ?? req.image;
    return {elf: await ElfFile.open(host), name: kernelNameOf(req.image, req.root)};
  }
  if (setup.fs === undefined) {
    throw new KexecError('usage', 'no IMAGE given: name the kernel to plan, or give --host DIR or --root DIR so kexec-ts can pick the kernel the loader would boot', {reason: 'usage'});
  }
  const choice = await chooseKernel(setup.fs, setup.get);
  return {elf: await ElfFile.open(choice.found.hostPath), name: choice.found.path};
}

/**
 * Most PT_LOADs an image may have (README "Limits"). Real kernels have a handful; the FreeBSD loader even needs
 * every program header in the file's first page (stand/common/load_elf.c, "program header not within first
 * page"), at most 72 for ELF64. A bound keeps the work of a hostile header table small before any placement.
 */
export const MAX_PT_LOADS = 1024;

export async function planFiles(req: PlanRequest): Promise<PlanResult> {
  const setup = await loaderSetup(req);
  const {elf, name} = await openImage(req, setup);
  const loads = elf.loadSegments.length;
  if (loads > MAX_PT_LOADS) {
    throw new KexecError('badInput', `${elf.file}: ${loads} PT_LOAD program headers; kexec-ts plans images with at most ${MAX_PT_LOADS}`, {
      reason: 'too-many-pt-loads', hint: 'a bootable image has a few PT_LOADs (README "Limits")',
    });
  }
  const arch = archName(elf.header.machine, elf.is64);
  const target = req.target ?? (req.host === undefined ? undefined : hostTarget(req.host));
  const chosen = await chooseMemoryMap({...req, ...(target === undefined ? {} : {target})}, arch);
  if (chosen.arch !== undefined && chosen.arch !== 'any' && chosen.arch !== arch) {
    throw new KexecError('plan', `${elf.file}: an ${arch} image (${emName(elf.header.machine)}) cannot boot on ${chosen.what}, which is ${chosen.arch}`, {
      reason: 'arch-mismatch', hint: `give an ${chosen.arch} kernel, or plan for another machine with --profile`,
    });
  }
  const pageSize = req.pageSize ?? chosen.pageSize ?? DEFAULT_PAGE_SIZE;
  const type = req.imageType ?? 'auto';
  const freebsd = type === 'freebsd' || (type === 'auto' && isFreeBsdKernel(elf));
  if (type === 'freebsd' && elf.header.type !== ET.EXEC) {
    throw new KexecError('badInput', `${elf.file}: --image-type freebsd needs an ET_EXEC kernel`, {reason: 'not-a-kernel'});
  }
  let image: Image;
  if (freebsd) {
    if (req.useVaddr === true || req.entry !== undefined) {
      throw new KexecError('usage', '--use-vaddr and --entry apply to generic ELF images; a FreeBSD kernel is entered through its trampoline', {reason: 'usage'});
    }
    image = await buildFreeBsd(elf, name, req.modules, setup, req, chosen.map, target);
  } else {
    if (req.modules.length > 0) {
      throw new KexecError('usage', `${elf.file}: modules can only be loaded with a FreeBSD kernel; this is a generic ELF image`, {reason: 'modules-need-freebsd'});
    }
    refuseProgram(elf);
    image = elfImage(elf, {pageSize, useVaddr: req.useVaddr === true, entryOverride: req.entry !== undefined});
  }
  const plan = await planHashedInParallel(image, chosen.map, {
    pageSize,
    ...(req.placement === undefined ? {} : {strategy: req.placement}),
    ...(req.entry === undefined ? {} : {entry: req.entry}),
    ...(req.min === undefined ? {} : {min: req.min}),
    ...(req.max === undefined ? {} : {max: req.max}),
  });
  return {plan, elf};
}
