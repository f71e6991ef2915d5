/**
 * The simulated machine itself: architecture, page size, RAM ranges (its vm.phys_segs), whether the caller is
 * root and the kern.securelevel. It persists in `STATEDIR/machine.json` so that a later `status` or `exec` sees
 * the same machine the image was loaded into; options given to a later run override the stored values and are
 * saved (atomically: temp file + rename), the way reconfiguring a real machine would.
 */
import {existsSync, mkdirSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {KexecError, hex} from '../../errors.js';
import {makeMemoryMap, memoryMapToJSON, type MemoryMap, type MemoryMapJSON} from '../../plan/memory-map.js';
import {getProfile, type MachineProfile} from '../../plan/profiles.js';
import {Range} from '../../plan/range.js';
import {writeFileAtomic} from './durable-fs.js';

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

export function machineFile(stateDir: string): string {
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

const HEXNUM = /^0x[0-9a-f]+$/;

function bigHex(path: string, field: string, v: unknown): bigint {
  if (typeof v !== 'string' || !HEXNUM.test(v)) throw corrupt(path, `${field} is ${JSON.stringify(v)}, expected a 0x… hex string`);
  return BigInt(v);
}

function fromJSON(path: string, raw: unknown): Machine {
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
    const start = bigHex(path, `memoryMap.ranges[${i}].start`, q.start);
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
  return {
    profile: o.profile,
    arch: o.arch,
    pageSize: bigHex(path, 'pageSize', o.pageSize),
    memoryMap,
    privileged: o.privileged,
    securelevel: o.securelevel,
  };
}

function readStored(path: string): Machine | undefined {
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw corrupt(path, `not valid JSON (${(e as Error).message})`);
  }
  return fromJSON(path, raw);
}

/** Stored machine with the options applied over it (or a new machine from the options); saved when changed. */
export function openMachine(stateDir: string, options: MachineOptions): Machine {
  mkdirSync(stateDir, {recursive: true, mode: 0o700});
  const path = machineFile(stateDir);
  const stored = readStored(path);
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
  const text = `${JSON.stringify(toJSON(machine), null, 2)}\n`;
  if (stored === undefined || text !== `${JSON.stringify(toJSON(stored), null, 2)}\n`) writeFileAtomic(path, text);
  return machine;
}
