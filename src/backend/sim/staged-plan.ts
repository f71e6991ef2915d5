/**
 * Reading a staged plan.json back, and recomputing its digest from the JSON alone. The simulated machine's exec
 * trusts nothing it did not check: the plan digest is recomputed here from plan.json's own fields, the same
 * canonical form as the planner's planDigest (independently written, so a bug in one does not hide in the other).
 */
import {createHash} from 'node:crypto';
import {KexecError, hex} from '../../errors.js';
import type {PlanJSON} from '../../plan/plan-json.js';

const HEXNUM = /^0x[0-9a-f]+$/;
const SHA256 = /^[0-9a-f]{64}$/;

function bad(path: string, what: string): KexecError {
  return new KexecError('backend', `sim: ${path}: ${what}`, {reason: 'state-corrupt', hint: 'run `unload` to drop the staged image'});
}

function field<T>(path: string, o: Record<string, unknown>, key: string, ok: (v: unknown) => v is T, what: string, where = ''): T {
  const v = o[key];
  if (!ok(v)) throw bad(path, `${where}${key} is ${JSON.stringify(v)}, expected ${what}`);
  return v;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isHex = (v: unknown): v is string => typeof v === 'string' && HEXNUM.test(v);
const isSha = (v: unknown): v is string => typeof v === 'string' && SHA256.test(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isArray = (v: unknown): v is unknown[] => Array.isArray(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** plan.json as written by planToJSON, with every field the simulated machine reads checked for type. */
export function parsePlanJSON(path: string, raw: unknown): PlanJSON {
  if (!isObject(raw)) throw bad(path, 'is not a JSON object');
  const segments = field(path, raw, 'segments', isArray, 'a list').map((s, i) => {
    const where = `segments[${i}].`;
    if (!isObject(s)) throw bad(path, `segments[${i}] is not an object`);
    const contents = field(path, s, 'contents', isArray, 'a list', where).map((c, j) => {
      const w = `${where}contents[${j}].`;
      if (!isObject(c)) throw bad(path, `${where}contents[${j}] is not an object`);
      return {
        label: field(path, c, 'label', isString, 'a string', w),
        mem: field(path, c, 'mem', isHex, 'a 0x… hex string', w),
        filesz: field(path, c, 'filesz', isHex, 'a 0x… hex string', w),
        memsz: field(path, c, 'memsz', isHex, 'a 0x… hex string', w),
      };
    });
    return {
      index: field(path, s, 'index', isNumber, 'a number', where),
      mem: field(path, s, 'mem', isHex, 'a 0x… hex string', where),
      memsz: field(path, s, 'memsz', isHex, 'a 0x… hex string', where),
      bufsz: field(path, s, 'bufsz', isHex, 'a 0x… hex string', where),
      sha256: field(path, s, 'sha256', isSha, 'a SHA-256 hex digest', where),
      contents,
    };
  });
  const memoryMap = field(path, raw, 'memoryMap', isObject, 'an object');
  const budget = field(path, raw, 'budget', isObject, 'an object');
  const handoff = raw.handoff;
  return {
    kind: field(path, raw, 'kind', isString, 'a string'),
    arch: field(path, raw, 'arch', isString, 'a string'),
    machine: field(path, raw, 'machine', isNumber, 'a number'),
    pageSize: field(path, raw, 'pageSize', isHex, 'a 0x… hex string'),
    entry: field(path, raw, 'entry', isHex, 'a 0x… hex string'),
    flags: field(path, raw, 'flags', isHex, 'a 0x… hex string'),
    files: field(path, raw, 'files', isStrings, 'a list of names'),
    segments,
    budget: {used: Number(budget.used), max: Number(budget.max)},
    merges: field(path, raw, 'merges', isStrings, 'a list of strings'),
    notes: field(path, raw, 'notes', isStrings, 'a list of strings'),
    memoryMap: {
      source: String(memoryMap.source),
      ranges: isArray(memoryMap.ranges) ? (memoryMap.ranges as PlanJSON['memoryMap']['ranges']) : [],
    },
    ...(isObject(handoff) ? {handoff} : {}),
    digest: field(path, raw, 'digest', isSha, 'a SHA-256 hex digest'),
  };
}

const norm = (h: string): string => hex(BigInt(h));

/**
 * SHA-256 over the canonical description: {arch, pageSize, entry, flags, segments: [{mem, memsz, bufsz, sha256}]}
 * in exactly that key order, numbers as lowercase unpadded 0x… hex (re-normalized, in case plan.json was edited).
 */
export function planDigestFromJSON(p: Pick<PlanJSON, 'arch' | 'pageSize' | 'entry' | 'flags' | 'segments'>): string {
  const canonical = JSON.stringify({
    arch: p.arch,
    pageSize: norm(p.pageSize),
    entry: norm(p.entry),
    flags: norm(p.flags),
    segments: p.segments.map((s) => ({mem: norm(s.mem), memsz: norm(s.memsz), bufsz: norm(s.bufsz), sha256: s.sha256})),
  });
  return createHash('sha256').update(canonical).digest('hex');
}
