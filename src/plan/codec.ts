/**
 * The one plan codec: planToJSON is the contract of `plan --json`, `DIR/plan.json` and a staged plan.json
 * (addresses and sizes as lowercase unpadded hex strings, segments in `mem` order with their index, SHA-256 and
 * what they hold); planFromJSON turns such a document back into a typed Plan without bytes, checking every field
 * it returns, so nothing past this file ever sees a hex string or an unchecked value.
 */
import {KexecError, hex, type ExitCodeName} from '../errors.js';
import type {ChecklistItem, FreeBsdHandoff, Handoff, HandoffFile, KenvEntry, MemoryRecordSummary} from '../image/types.js';
import {makeMemoryMap, memoryMapToJSON, type MemoryMapJSON, type MemoryRange} from '../memory/memory-map.js';
import {Range, U64_LIMIT} from '../memory/range.js';
import {KEXEC_SEGMENT_MAX, type Plan, type PlanDescription, type SegmentDescription} from './types.js';

export interface HandoffFileJSON {
  name: string; type: string; addr: string; size: string; physical: string; modules: string[]; args?: string;
}

export interface MemoryRecordJSON {
  name: 'EFI_MAP' | 'SMAP'; type: string; size: string; entries: number;
}

export type HandoffJSON = {kind: 'elf'} | {
  kind: 'freebsd'; arch: 'amd64' | 'arm64'; entry: string; kernelEntry: string; kernelEntryVirtual: string; loadBase: string;
  kernphys?: string; modulep: string; kernend: string; metadata: string; metadataSize: string; envp: string; physOffset: string;
  howto: string; env: Record<string, string>; envSources: Record<string, string>; memoryMapRecord: string; memoryRecord: MemoryRecordJSON; fwHandle?: string;
  files: HandoffFileJSON[];
  dependencies: {file: string; module: string; neededBy: string; how: string}[];
  checklist?: ChecklistItem[];
};

export interface SegmentJSON {
  index: number; mem: string; memsz: string; bufsz: string; sha256: string;
  contents: {label: string; mem: string; filesz: string; memsz: string}[];
}

export interface PlanJSON {
  kind: Plan['kind'];
  arch: string;
  machine: number;
  pageSize: string;
  entry: string;
  flags: string;
  files: string[];
  segments: SegmentJSON[];
  budget: {used: number; max: number};
  merges: string[];
  notes: string[];
  memoryMap: MemoryMapJSON;
  handoff: HandoffJSON;
  digest: string;
}

function fileToJSON(f: HandoffFile): HandoffFileJSON {
  return {
    name: f.name, type: f.type, addr: hex(f.addr), size: hex(f.size), physical: hex(f.physical), modules: [...f.modules],
    ...(f.args === undefined ? {} : {args: f.args}),
  };
}

/** Fixed key order, so a decoded and re-encoded checklist digests the same. */
function checklistItemToJSON(c: ChecklistItem): ChecklistItem {
  return {
    id: c.id, title: c.title, status: c.status, severity: c.severity,
    ...(c.source === undefined ? {} : {source: c.source}), ...(c.value === undefined ? {} : {value: c.value}),
    ...(c.consequence === undefined ? {} : {consequence: c.consequence}),
  };
}

export function handoffToJSON(h: Handoff): HandoffJSON {
  if (h.kind === 'elf') return {kind: 'elf'};
  return {
    kind: 'freebsd', arch: h.arch, entry: hex(h.entry), kernelEntry: hex(h.kernelEntry), kernelEntryVirtual: hex(h.kernelEntryVirtual),
    loadBase: hex(h.loadBase), ...(h.kernphys === undefined ? {} : {kernphys: hex(h.kernphys)}),
    modulep: hex(h.modulep), kernend: hex(h.kernend), metadata: hex(h.metadata), metadataSize: hex(h.metadataSize),
    envp: hex(h.envp), physOffset: hex(h.physOffset), howto: hex(h.howto),
    env: Object.fromEntries(h.env.map((e) => [e.name, e.value])),
    envSources: Object.fromEntries(h.env.filter((e) => e.source !== undefined).map((e) => [e.name, e.source as string])),
    memoryMapRecord: h.memoryMapRecord,
    memoryRecord: {name: h.memoryRecord.name, type: hex(h.memoryRecord.type), size: hex(h.memoryRecord.size), entries: h.memoryRecord.entries},
    ...(h.fwHandle === undefined ? {} : {fwHandle: hex(h.fwHandle)}),
    files: h.files.map(fileToJSON),
    dependencies: h.dependencies.map((d) => ({file: d.file, module: d.module, neededBy: d.neededBy, how: d.how})),
    ...(h.checklist === undefined ? {} : {checklist: h.checklist.map(checklistItemToJSON)}),
  };
}

function segmentToJSON(s: SegmentDescription, index: number): SegmentJSON {
  return {
    index, mem: hex(s.mem), memsz: hex(s.memsz), bufsz: hex(s.bufsz), sha256: s.sha256,
    contents: s.contents.map((c) => ({label: c.label, mem: hex(c.mem), filesz: hex(c.filesz), memsz: hex(c.memsz)})),
  };
}

export function planToJSON(plan: Plan<SegmentDescription>): PlanJSON {
  return {
    kind: plan.kind,
    arch: plan.arch,
    machine: plan.machine,
    pageSize: hex(plan.pageSize),
    entry: hex(plan.entry),
    flags: hex(plan.flags),
    files: [...plan.files],
    segments: plan.segments.map(segmentToJSON),
    budget: {used: plan.segments.length, max: KEXEC_SEGMENT_MAX},
    merges: [...plan.merges],
    notes: [...plan.notes],
    memoryMap: memoryMapToJSON(plan.memoryMap),
    handoff: handoffToJSON(plan.handoff),
    digest: plan.digest,
  };
}

/* ---------------------------------------------------------------- decoding */

type Obj = Record<string, unknown>;
const HEXNUM = /^0x[0-9a-f]{1,16}$/;
const SHA256 = /^[0-9a-f]{64}$/;
const isObject = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads one JSON document field by field; every failure names the field path and the value found. */
class Fields {
  constructor(private readonly source: string, private readonly code: ExitCodeName) {}

  fail(path: string, what: string): never {
    throw new KexecError(this.code, `${this.source}: ${path}: ${what}`, {
      reason: 'plan-malformed',
      details: {field: path},
      hint: 'the plan file was changed or damaged: plan or load the image again',
    });
  }

  private shown(v: unknown): string {
    const s = JSON.stringify(v) ?? String(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  }

  object(o: unknown, path: string): Obj {
    if (!isObject(o)) this.fail(path, `is ${this.shown(o)}, expected an object`);
    return o;
  }

  list(o: Obj, key: string, path: string): unknown[] {
    const v = o[key];
    if (!Array.isArray(v)) this.fail(`${path}${key}`, `is ${this.shown(v)}, expected a list`);
    return v;
  }

  string(o: Obj, key: string, path: string): string {
    const v = o[key];
    if (typeof v !== 'string') this.fail(`${path}${key}`, `is ${this.shown(v)}, expected a string`);
    return v;
  }

  strings(o: Obj, key: string, path: string): string[] {
    return this.list(o, key, path).map((v, i) => {
      if (typeof v !== 'string') this.fail(`${path}${key}[${i}]`, `is ${this.shown(v)}, expected a string`);
      return v;
    });
  }

  /** A 0x… hex string of at most 64 bits (or `limit` exclusive). */
  big(o: Obj, key: string, path: string, limit = U64_LIMIT): bigint {
    const v = o[key];
    if (typeof v !== 'string' || !HEXNUM.test(v) || BigInt(v) >= limit) {
      this.fail(`${path}${key}`, `is ${this.shown(v)}, expected a 0x… hex number below ${hex(limit)}`);
    }
    return BigInt(v);
  }

  integer(o: Obj, key: string, path: string): number {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) this.fail(`${path}${key}`, `is ${this.shown(v)}, expected a non-negative integer`);
    return v;
  }

  sha(o: Obj, key: string, path: string): string {
    const v = o[key];
    if (typeof v !== 'string' || !SHA256.test(v)) this.fail(`${path}${key}`, `is ${this.shown(v)}, expected a SHA-256 hex digest`);
    return v;
  }

  oneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[]): T {
    const v = o[key];
    const found = values.find((x) => x === v);
    if (found === undefined) this.fail(`${path}${key}`, `is ${this.shown(v)}, expected one of ${values.join(', ')}`);
    return found;
  }
}

function segmentFromJSON(f: Fields, raw: unknown, i: number): SegmentDescription {
  const path = `segments[${i}].`;
  const s = f.object(raw, `segments[${i}]`);
  if (f.integer(s, 'index', path) !== i) f.fail(`${path}index`, `is ${String(s.index)}, expected ${i}`);
  const mem = f.big(s, 'mem', path);
  const memsz = f.big(s, 'memsz', path, U64_LIMIT - mem + 1n);
  const contents = f.list(s, 'contents', path).map((c, j) => {
    const p = `${path}contents[${j}].`;
    const o = f.object(c, `${path}contents[${j}]`);
    return {label: f.string(o, 'label', p), mem: f.big(o, 'mem', p), filesz: f.big(o, 'filesz', p), memsz: f.big(o, 'memsz', p)};
  });
  return {mem, memsz, bufsz: f.big(s, 'bufsz', path), sha256: f.sha(s, 'sha256', path), contents};
}

function memoryMapFromJSON(f: Fields, raw: unknown): PlanDescription['memoryMap'] {
  const m = f.object(raw, 'memoryMap');
  const source = f.string(m, 'source', 'memoryMap.');
  const ranges: MemoryRange[] = f.list(m, 'ranges', 'memoryMap.').map((r, i) => {
    const p = `memoryMap.ranges[${i}].`;
    const o = f.object(r, `memoryMap.ranges[${i}]`);
    const start = f.big(o, 'start', p);
    const end = f.big(o, 'end', p, U64_LIMIT + 1n);
    if (end <= start) f.fail(`${p}end`, `${hex(end)} is not above start ${hex(start)}`);
    const label = o.label === undefined ? undefined : f.string(o, 'label', p);
    return {range: new Range(start, end), type: f.string(o, 'type', p), ...(label === undefined ? {} : {label})};
  });
  try {
    return makeMemoryMap(source, ranges);
  } catch (e) {
    return f.fail('memoryMap.ranges', e instanceof Error ? e.message : String(e));
  }
}

function envFromJSON(f: Fields, raw: unknown, rawSources: unknown): KenvEntry[] {
  const o = f.object(raw, 'handoff.env');
  const sources = rawSources === undefined ? {} : f.object(rawSources, 'handoff.envSources');
  return Object.keys(o).map((name) => {
    const source = sources[name] === undefined ? undefined : f.string(sources, name, 'handoff.envSources.');
    return {name, value: f.string(o, name, 'handoff.env.'), ...(source === undefined ? {} : {source})};
  });
}

function memoryRecordFromJSON(f: Fields, raw: unknown): MemoryRecordSummary {
  const p = 'handoff.memoryRecord.';
  const o = f.object(raw, 'handoff.memoryRecord');
  return {
    name: f.oneOf(o, 'name', p, ['EFI_MAP', 'SMAP'] as const), type: Number(f.big(o, 'type', p, 1n << 16n)),
    size: Number(f.big(o, 'size', p, 1n << 32n)), entries: f.integer(o, 'entries', p),
  };
}

function freebsdHandoffFromJSON(f: Fields, h: Obj): FreeBsdHandoff {
  const p = 'handoff.';
  const howto = f.big(h, 'howto', p, 1n << 32n);
  const files = f.list(h, 'files', p).map((raw, i): HandoffFile => {
    const q = `${p}files[${i}].`;
    const o = f.object(raw, `${p}files[${i}]`);
    const args = o.args === undefined ? undefined : f.string(o, 'args', q);
    return {
      name: f.string(o, 'name', q), type: f.string(o, 'type', q), addr: f.big(o, 'addr', q), size: f.big(o, 'size', q),
      physical: f.big(o, 'physical', q), modules: f.strings(o, 'modules', q), ...(args === undefined ? {} : {args}),
    };
  });
  const dependencies = f.list(h, 'dependencies', p).map((raw, i) => {
    const q = `${p}dependencies[${i}].`;
    const o = f.object(raw, `${p}dependencies[${i}]`);
    return {file: f.string(o, 'file', q), module: f.string(o, 'module', q), neededBy: f.string(o, 'neededBy', q), how: f.string(o, 'how', q)};
  });
  const checklist = h.checklist === undefined ? undefined : f.list(h, 'checklist', p).map((raw, i): ChecklistItem => {
    const q = `${p}checklist[${i}].`;
    const o = f.object(raw, `${p}checklist[${i}]`);
    const opt = (k: 'source' | 'value' | 'consequence'): Partial<ChecklistItem> => (o[k] === undefined ? {} : {[k]: f.string(o, k, q)});
    return {
      id: f.string(o, 'id', q), title: f.string(o, 'title', q), status: f.oneOf(o, 'status', q, ['present', 'missing'] as const),
      severity: f.oneOf(o, 'severity', q, ['fatal', 'warn', 'info'] as const), ...opt('source'), ...opt('value'), ...opt('consequence'),
    };
  });
  return {
    ...(checklist === undefined ? {} : {checklist}),
    kind: 'freebsd', arch: f.oneOf(h, 'arch', p, ['amd64', 'arm64'] as const),
    entry: f.big(h, 'entry', p), kernelEntry: f.big(h, 'kernelEntry', p), kernelEntryVirtual: f.big(h, 'kernelEntryVirtual', p),
    loadBase: f.big(h, 'loadBase', p), ...(h.kernphys === undefined ? {} : {kernphys: f.big(h, 'kernphys', p)}),
    modulep: f.big(h, 'modulep', p), kernend: f.big(h, 'kernend', p), metadata: f.big(h, 'metadata', p),
    metadataSize: f.big(h, 'metadataSize', p), envp: f.big(h, 'envp', p), physOffset: f.big(h, 'physOffset', p),
    howto: Number(howto), env: envFromJSON(f, h.env, h.envSources), memoryMapRecord: f.string(h, 'memoryMapRecord', p),
    memoryRecord: memoryRecordFromJSON(f, h.memoryRecord), ...(h.fwHandle === undefined ? {} : {fwHandle: f.big(h, 'fwHandle', p)}),
    files, dependencies,
  };
}

/**
 * A plan document back to a typed plan without bytes. `source` names the document in errors ("FILE: field: what");
 * `code` is the exit code of a malformed document (a staged plan.json is the backend's state: exit 5).
 */
export function planFromJSON(raw: unknown, source: string, code: ExitCodeName = 'backend'): PlanDescription {
  const f = new Fields(source, code);
  const o = f.object(raw, 'the document');
  const kind = f.oneOf(o, 'kind', '', ['elf', 'freebsd'] as const);
  const h = f.object(o.handoff, 'handoff');
  const handoffKind = f.oneOf(h, 'kind', 'handoff.', ['elf', 'freebsd'] as const);
  if (handoffKind !== kind) f.fail('kind', `is "${kind}" but handoff.kind is "${handoffKind}"`);
  const handoff: Handoff = handoffKind === 'elf' ? {kind: 'elf'} : freebsdHandoffFromJSON(f, h);
  const segments = f.list(o, 'segments', '').map((s, i) => segmentFromJSON(f, s, i));
  const pageSize = f.big(o, 'pageSize', '');
  return {
    kind, arch: f.string(o, 'arch', ''), machine: f.integer(o, 'machine', ''), pageSize, entry: f.big(o, 'entry', ''),
    flags: f.big(o, 'flags', ''), segments, memoryMap: memoryMapFromJSON(f, o.memoryMap), files: f.strings(o, 'files', ''),
    merges: f.strings(o, 'merges', ''), notes: f.strings(o, 'notes', ''), handoff, digest: f.sha(o, 'digest', ''),
  };
}
