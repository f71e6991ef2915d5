/**
 * The simulated machine itself: architecture, page size, RAM ranges (its vm.phys_segs), whether the caller is
 * root and the kern.securelevel. It persists in `STATEDIR/machine.json` so that a later `status` or `exec` sees
 * the same machine the image was loaded into. Options given to a run apply over the stored values for that run;
 * only a successful load saves them (atomically, under the lock), the way reconfiguring a real machine would.
 * Reading never writes: a dry run, a failed load or a `status` leaves machine.json byte for byte as it was.
 */
import {readFileSync} from 'node:fs';
import {assertTrusted} from '../../io/trust.js';
import {dirname, join} from 'node:path';
import {KexecError, hex} from '../../errors.js';
import {makeMemoryMap, memoryMapToJSON, type MemoryMap, type MemoryMapJSON} from '../../memory/memory-map.js';
import {getProfile, type MachineProfile} from '../../memory/profiles.js';
import {Range, U64_LIMIT} from '../../memory/range.js';
import {errnoCode} from '../../io/read-input.js';
import {writeFileAtomic} from '../staging/durable-fs.js';

/** The profile a new machine gets when neither a profile nor a memory map is given. */
export const DEFAULT_PROFILE = 'flat-4g';

export interface Machine {
  /** The profile it was built from, if any (informational). */
  readonly profile: string | null;
  /** amd64, arm64, riscv64, ..., or 'any' (a generic machine runs whatever architecture the image is for). */
  readonly arch: string;
  readonly pageSize: bigint;
  readonly memoryMap: MemoryMap;
  readonly privileged: boolean;
  readonly securelevel: number;
}

export interface MachineOptions {
  readonly profile?: MachineProfile;
  readonly memoryMap?: MemoryMap;
  readonly privileged?: boolean;
  readonly securelevel?: number;
}

interface MachineJSON {
  profile: string | null;
  arch: string;
  pageSize: string;
  memoryMap: MemoryMapJSON;
  privileged: boolean;
  securelevel: number;
}

function machineFile(stateDir: string): string {
  return join(stateDir, 'machine.json');
}

function corrupt(path: string, what: string): KexecError {
  return new KexecError('backend', `sim: ${path}: ${what}`, {
    reason: 'state-corrupt',
    hint: `fix or remove ${path} (the machine is then rebuilt from the options)`,
  });
}

function toJSON(m: Machine): MachineJSON {
  return {
    profile: m.profile,
    arch: m.arch,
    pageSize: hex(m.pageSize),
    memoryMap: memoryMapToJSON(m.memoryMap),
    privileged: m.privileged,
    securelevel: m.securelevel,
  };
}

const HEXNUM = /^0x[0-9a-f]{1,17}$/;

function bigHex(path: string, field: string, v: unknown, limit = U64_LIMIT): bigint {
  if (typeof v !== 'string' || !HEXNUM.test(v) || BigInt(v) > limit) {
    throw corrupt(path, `${field} is ${JSON.stringify(v)}, expected a 0x… hex number up to ${hex(limit)}`);
  }
  return BigInt(v);
}

function fromJSON(path: string, raw: unknown): Machine {
  try {
    return fromJSONUnchecked(path, raw);
  } catch (e) {
    if (e instanceof KexecError) throw e;
    throw corrupt(path, e instanceof Error ? e.message : String(e));
  }
}

function fromJSONUnchecked(path: string, raw: unknown): Machine {
  if (typeof raw !== 'object' || raw === null) throw corrupt(path, 'not a JSON object');
  const o = raw as Record<string, unknown>;
  const mm = o.memoryMap as Record<string, unknown> | undefined;
  if (typeof o.arch !== 'string') throw corrupt(path, 'arch is missing');
  if (typeof o.privileged !== 'boolean') throw corrupt(path, 'privileged is not true or false');
  if (typeof o.securelevel !== 'number' || !Number.isInteger(o.securelevel)) throw corrupt(path, 'securelevel is not an integer');
  if (o.profile !== null && typeof o.profile !== 'string') throw corrupt(path, 'profile is not a string or null');
  if (typeof mm !== 'object' || mm === null || typeof mm.source !== 'string' || !Array.isArray(mm.ranges)) {
    throw corrupt(path, 'memoryMap is not {source, ranges}');
  }
  const ranges = (mm.ranges as unknown[]).map((r, i) => {
    const q = (r ?? {}) as Record<string, unknown>;
    const start = bigHex(path, `memoryMap.ranges[${i}].start`, q.start, U64_LIMIT - 1n);
    const end = bigHex(path, `memoryMap.ranges[${i}].end`, q.end);
    if (end < start) throw corrupt(path, `memoryMap.ranges[${i}] ends before it starts`);
    const type = typeof q.type === 'string' ? q.type : 'ram';
    return typeof q.label === 'string' ? {range: new Range(start, end), type, label: q.label} : {range: new Range(start, end), type};
  });
  let memoryMap: MemoryMap;
  try {
    memoryMap = makeMemoryMap(mm.source, ranges);
  } catch (e) {
    throw corrupt(path, (e as Error).message);
  }
  const pageSize = bigHex(path, 'pageSize', o.pageSize);
  if (pageSize < 0x1000n || (pageSize & (pageSize - 1n)) !== 0n) throw corrupt(path, `pageSize ${hex(pageSize)} is not a power of two of at least 0x1000`);
  return {
    profile: o.profile,
    arch: o.arch,
    pageSize,
    memoryMap,
    privileged: o.privileged,
    securelevel: o.securelevel,
  };
}

function readStored(path: string): Machine | undefined {
  // The machine model decides what a load is checked against: read only from a trusted state directory.
  assertTrusted(dirname(path), {what: 'sim: state directory', kind: 'dir'});
  let text: string;
  try {
    assertTrusted(path, {what: 'sim: state file', kind: 'file'});
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw corrupt(path, `cannot be read (${errnoCode(e) ?? String(e)})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw corrupt(path, `not valid JSON (${(e as Error).message})`);
  }
  return fromJSON(path, raw);
}

function serialize(m: Machine): string {
  return `${JSON.stringify(toJSON(m), null, 2)}\n`;
}

/** The stored machine (or the default one) with the options applied, in memory only. */
export function openMachine(stateDir: string, options: MachineOptions): {machine: Machine; changed: boolean} {
  const stored = readStored(machineFile(stateDir));
  const base: Machine = stored ?? {
    profile: DEFAULT_PROFILE,
    arch: getProfile(DEFAULT_PROFILE).arch,
    pageSize: getProfile(DEFAULT_PROFILE).pageSize,
    memoryMap: getProfile(DEFAULT_PROFILE).memoryMap,
    privileged: true,
    securelevel: -1,
  };
  const p = options.profile;
  const machine: Machine = {
    profile: p?.name ?? (options.memoryMap !== undefined ? null : base.profile),
    arch: p?.arch ?? base.arch,
    pageSize: p?.pageSize ?? base.pageSize,
    memoryMap: options.memoryMap ?? p?.memoryMap ?? base.memoryMap,
    privileged: options.privileged ?? base.privileged,
    securelevel: options.securelevel ?? base.securelevel,
  };
  return {machine, changed: stored === undefined || serialize(stored) !== serialize(machine)};
}

/** Under the lock, after a successful load: machine.json becomes `machine` (atomically). */
export function saveMachine(stateDir: string, machine: Machine): void {
  writeFileAtomic(machineFile(stateDir), serialize(machine));
}
