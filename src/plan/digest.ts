/**
 * The plan digest: SHA-256 over everything a backend acts on or hands the new kernel, namely kind, arch,
 * machine, page size, entry, flags, every segment (mem, memsz, bufsz and the SHA-256 of its bytes), the files
 * and the hand-off. Each field is hashed on its own (over its JSON form from the codec, so "0x010" and "0x10"
 * cannot differ), and the plan digest is the SHA-256 of those field digests in a fixed order. A backend keeps the
 * field digests with what it staged, so a staged plan.json whose `kind` or `handoff` was edited is refused with
 * the field named, not just "digest mismatch". Notes, merges, segment labels and the memory map are
 * descriptions for people and are not covered.
 */
import {createHash} from 'node:crypto';
import {hex} from '../errors.js';
import {handoffToJSON} from './codec.js';
import type {Plan, SegmentDescription} from './types.js';

export const DIGEST_FIELDS = ['kind', 'arch', 'machine', 'pageSize', 'entry', 'flags', 'segments', 'files', 'handoff'] as const;
export type DigestField = (typeof DIGEST_FIELDS)[number];
export type FieldDigests = Readonly<Record<DigestField, string>>;

type Digestible = Pick<Plan<SegmentDescription>, DigestField>;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export function planFieldDigests(p: Digestible): FieldDigests {
  const json: Record<DigestField, unknown> = {
    kind: p.kind,
    arch: p.arch,
    machine: p.machine,
    pageSize: hex(p.pageSize),
    entry: hex(p.entry),
    flags: hex(p.flags),
    segments: p.segments.map((s) => ({mem: hex(s.mem), memsz: hex(s.memsz), bufsz: hex(s.bufsz), sha256: s.sha256})),
    files: p.files,
    handoff: handoffToJSON(p.handoff),
  };
  return Object.fromEntries(DIGEST_FIELDS.map((k) => [k, sha256(JSON.stringify(json[k]))])) as Record<DigestField, string>;
}

export function digestOfFields(fields: FieldDigests): string {
  return sha256(JSON.stringify(DIGEST_FIELDS.map((k) => fields[k])));
}

export function planDigest(p: Digestible): string {
  return digestOfFields(planFieldDigests(p));
}

/** The fields whose digests differ between two sets (what was staged, what is there now). */
export function changedFields(staged: FieldDigests, now: FieldDigests): DigestField[] {
  return DIGEST_FIELDS.filter((k) => staged[k] !== now[k]);
}
