/**
 * The plan as JSON (the contract of `plan --json` and `DIR/plan.json`): addresses and sizes as lowercase hex
 * strings, segments in `mem` order with their index, SHA-256 and what they hold.
 */
import {hex} from '../errors.js';
import {memoryMapToJSON, type MemoryMapJSON} from './memory-map.js';
import {KEXEC_SEGMENT_MAX, type Plan} from './types.js';

export interface PlanJSON {
  kind: string;
  arch: string;
  machine: number;
  pageSize: string;
  entry: string;
  flags: string;
  files: string[];
  segments: {
    index: number; mem: string; memsz: string; bufsz: string; sha256: string;
    contents: {label: string; mem: string; filesz: string; memsz: string}[];
  }[];
  budget: {used: number; max: number};
  merges: string[];
  notes: string[];
  memoryMap: MemoryMapJSON;
  handoff?: Record<string, unknown>;
  digest: string;
}

export function planToJSON(plan: Plan): PlanJSON {
  return {
    kind: plan.kind,
    arch: plan.arch,
    machine: plan.machine,
    pageSize: hex(plan.pageSize),
    entry: hex(plan.entry),
    flags: hex(plan.flags),
    files: [...plan.files],
    segments: plan.segments.map((s, index) => ({
      index,
      mem: hex(s.mem),
      memsz: hex(s.memsz),
      bufsz: hex(s.bufsz),
      sha256: s.sha256,
      contents: s.contents.map((c) => ({label: c.label, mem: hex(c.mem), filesz: hex(c.filesz), memsz: hex(c.memsz)})),
    })),
    budget: {used: plan.segments.length, max: KEXEC_SEGMENT_MAX},
    merges: [...plan.merges],
    notes: [...plan.notes],
    memoryMap: memoryMapToJSON(plan.memoryMap),
    ...(plan.handoff === undefined ? {} : {handoff: plan.handoff}),
    digest: plan.digest,
  };
}
