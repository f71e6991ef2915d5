/**
 * The whole planning pipeline for one command line: read the image (and modules), pick the memory map and page
 * size, build the Image, plan it. Commands (plan, load) call this and only render what it returns.
 */
import {ElfFile} from '../elf/elf-file.js';
import {KexecError} from '../errors.js';
import {DEFAULT_PAGE_SIZE} from '../image/arch.js';
import {elfImage} from '../image/elf-image.js';
import {loadMemoryMap} from '../plan/map-file.js';
import type {MemoryMap} from '../plan/memory-map.js';
import type {PlacementStrategy} from '../plan/placement.js';
import {plan as planImage} from '../plan/planner.js';
import {PROFILE_NAMES, defaultProfileForMachine, getProfile} from '../plan/profiles.js';
import type {Plan} from '../plan/types.js';

export interface PlanRequest {
  readonly image: string;
  readonly modules: readonly string[];
  readonly memmap?: string;
  readonly profile?: string;
  readonly pageSize?: bigint;
  readonly useVaddr?: boolean;
  readonly entry?: bigint;
  readonly placement?: PlacementStrategy;
  readonly min?: bigint;
  readonly max?: bigint;
}

export interface PlanResult {
  readonly plan: Plan;
  readonly elf: ElfFile;
}

/** The memory map: --memmap, else --profile, else the default profile for the image's machine. */
export async function chooseMemoryMap(req: Pick<PlanRequest, 'memmap' | 'profile'>, machine: number): Promise<{map: MemoryMap; pageSize?: bigint}> {
  if (req.memmap !== undefined && req.profile !== undefined) {
    throw new KexecError('usage', '--memmap and --profile both name a memory map; give one', {reason: 'usage'});
  }
  if (req.memmap !== undefined) return {map: await loadMemoryMap(req.memmap)};
  const profile = req.profile !== undefined ? getProfile(req.profile) : defaultProfileForMachine(machine);
  if (profile === undefined) {
    throw new KexecError('usage', `no built-in memory map for machine ${machine}: give --memmap FILE or --profile NAME (${PROFILE_NAMES.join(', ')})`, {
      reason: 'no-memory-map',
    });
  }
  return {map: profile.memoryMap, pageSize: profile.pageSize};
}

export async function planFiles(req: PlanRequest): Promise<PlanResult> {
  const elf = await ElfFile.open(req.image);
  const {map, pageSize: profilePageSize} = await chooseMemoryMap(req, elf.header.machine);
  const pageSize = req.pageSize ?? profilePageSize ?? DEFAULT_PAGE_SIZE;
  if (req.modules.length > 0) {
    throw new KexecError('usage', `${req.image}: modules can only be loaded with a FreeBSD kernel; this is a generic ELF image`, {
      reason: 'modules-need-freebsd',
    });
  }
  const image = elfImage(elf, map, {pageSize, useVaddr: req.useVaddr === true, entryOverride: req.entry !== undefined});
  const plan = planImage(image, map, {
    pageSize,
    ...(req.placement === undefined ? {} : {strategy: req.placement}),
    ...(req.entry === undefined ? {} : {entry: req.entry}),
    ...(req.min === undefined ? {} : {min: req.min}),
    ...(req.max === undefined ? {} : {max: req.max}),
  });
  return {plan, elf};
}
