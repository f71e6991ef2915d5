/**
 * The record a backend keeps of what it staged (FreeBSD offers no "is an image staged" query, so the native
 * backend needs it as much as the simulated ones): one builder and one checked reader for sim, qemu and native.
 * Besides a summary for `status` it holds the plan's field digests (src/plan/digest.ts), so an exec that finds a
 * staged plan.json changed since the load can name the field that changed.
 */
import {KexecError, hex} from '../../errors.js';
import {DIGEST_FIELDS, digestOfFields, planFieldDigests, type FieldDigests} from '../../plan/digest.js';
import type {Plan, SegmentDescription} from '../../plan/types.js';
import type {BackendName, StagedRecord} from '../types.js';

/** The record of a plan just staged on `backend`. */
export function stagedRecord(backend: BackendName, plan: Plan<SegmentDescription>, extra: Pick<StagedRecord, 'rbKexec'> = {}): StagedRecord {
  return {
    backend,
    digest: plan.digest,
    fields: planFieldDigests(plan),
    kind: plan.kind,
    arch: plan.arch,
    entry: hex(plan.entry),
    files: [...plan.files],
    segments: plan.segments.length,
    memsz: hex(plan.segments.reduce((n, s) => n + s.memsz, 0n)),
    stagedAt: new Date().toISOString(),
    ...(nextbootOf(plan) === undefined ? {} : {nextboot: nextbootOf(plan)}),
    ...extra,
  };
}

/** The nextboot.conf a FreeBSD plan used, from its hand-off checklist. */
export function nextbootOf(plan: Plan<SegmentDescription>): string | undefined {
  return plan.handoff.kind === 'freebsd' ? plan.handoff.checklist?.find((c) => c.id === 'nextboot')?.source : undefined;
}

type Obj = Record<string, unknown>;
const SHA256 = /^[0-9a-f]{64}$/;

/** record.json / staged.json back into a StagedRecord; anything malformed is `corrupt(what)`. */
export function parseStagedRecord(raw: unknown, backend: BackendName, corrupt: (what: string) => KexecError): StagedRecord {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw corrupt('is not a JSON object');
  const o = raw as Obj;
  for (const k of ['digest', 'kind', 'arch', 'entry', 'memsz', 'stagedAt'] as const) {
    if (typeof o[k] !== 'string') throw corrupt(`${k} is ${JSON.stringify(o[k]) ?? 'missing'}, expected a string`);
  }
  if (o.backend !== backend) throw corrupt(`backend is ${JSON.stringify(o.backend)}, expected "${backend}"`);
  if (typeof o.segments !== 'number' || !Number.isSafeInteger(o.segments) || o.segments < 0) throw corrupt('segments is not a count');
  if (!Array.isArray(o.files) || !o.files.every((f) => typeof f === 'string')) throw corrupt('files is not a list of names');
  const f = o.fields;
  if (typeof f !== 'object' || f === null || !DIGEST_FIELDS.every((k) => typeof (f as Obj)[k] === 'string' && SHA256.test((f as Obj)[k] as string))) {
    throw corrupt('fields is not the plan\'s field digests');
  }
  const fields = Object.fromEntries(DIGEST_FIELDS.map((k) => [k, (f as Obj)[k] as string])) as FieldDigests;
  if (digestOfFields(fields) !== o.digest) throw corrupt('digest does not match its field digests');
  const rb = o.rbKexec;
  if (rb !== undefined && (typeof rb !== 'string' || !/^0x[0-9a-f]{1,8}$/.test(rb))) throw corrupt('rbKexec is not a 0x… howto bit');
  const nb = o.nextboot;
  if (nb !== undefined && (typeof nb !== 'string' || !nb.startsWith('/'))) throw corrupt('nextboot is not an absolute path');
  return {
    backend, digest: o.digest as string, fields, kind: o.kind as string, arch: o.arch as string, entry: o.entry as string,
    files: o.files as string[], segments: o.segments, memsz: o.memsz as string, stagedAt: o.stagedAt as string,
    ...(rb === undefined ? {} : {rbKexec: rb as string}),
    ...(nb === undefined ? {} : {nextboot: nb as string}),
  };
}
