/**
 * Shared fixtures for the simulated machine's tests: temporary state directories, plans built with the real
 * planner (so the backend is tested on what it will really receive), and an assertion for refusals that checks
 * the exit code, the errno-style reason and the message together.
 */
import assert from 'node:assert/strict';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {KexecError} from '../../src/errors.js';
import type {Image, Piece} from '../../src/image/types.js';
import type {MemoryMap} from '../../src/memory/memory-map.js';
import {plan} from '../../src/plan/planner.js';
import {getProfile} from '../../src/memory/profiles.js';
import type {Plan} from '../../src/plan/types.js';

export const FLAT: MemoryMap = getProfile('flat-4g').memoryMap;

/**
 * A pid no process can have, for locks and temp files "left by a dead process" without waiting for a real one to
 * die (and without its pid being reused): above Linux's PID_MAX_LIMIT (2^22, include/linux/threads.h) and
 * FreeBSD's PID_MAX (99999, sys/sys/proc.h).
 */
export const NO_SUCH_PID = 4_194_305;

export function tempStateDir(t: {after: (fn: () => void) => void}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-sim-'));
  t.after(() => rmSync(dir, {recursive: true, force: true}));
  return dir;
}

/** Bytes that differ per piece and per offset, so a misplaced byte changes a digest. */
export function pattern(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 7 + (i >> 12)) & 0xff;
  return b;
}

export function piece(label: string, mem: bigint, data: Uint8Array, memsz = BigInt(data.length)): Piece {
  return {label, mem, data, memsz};
}

export interface ImageOptions {
  readonly arch?: string;
  readonly kind?: Image['kind'];
  readonly files?: string[];
}

export function makeImage(pieces: Piece[], entry: bigint, o: ImageOptions = {}): Image {
  return {kind: o.kind ?? 'elf', arch: o.arch ?? 'amd64', machine: 62, files: o.files ?? ['kernel.elf'], fixed: pieces, entry};
}

/** A two-segment image: text with bss, and data a few pages higher. `seed` makes different images. */
export function smallPlan(seed = 1, o: ImageOptions & {base?: bigint; map?: MemoryMap} = {}): Plan {
  const base = o.base ?? 0x200000n;
  const pieces = [
    piece('kernel PT_LOAD 0', base, pattern(0x2345, seed), 0x3000n),
    piece('kernel PT_LOAD 1', base + 0x10000n, pattern(0x800, seed + 1)),
  ];
  return plan(makeImage(pieces, base + 0x10n, o), o.map ?? FLAT, {pageSize: 0x1000n});
}

/** `groups` segments of `perGroupMiB` one-MiB pieces each, a page apart: a large plan that takes a while to write. */
export function largePlan(groups: number, perGroupMiB: number, base = 0x1000000n): Plan {
  const MiB = 0x100000n;
  const pieces: Piece[] = [];
  for (let g = 0; g < groups; g++) {
    const start = base + BigInt(g) * (BigInt(perGroupMiB) * MiB + 0x1000n);
    for (let i = 0; i < perGroupMiB; i++) pieces.push(piece(`g${g} piece ${i}`, start + BigInt(i) * MiB, pattern(Number(MiB), g * 100 + i)));
  }
  return plan(makeImage(pieces, base, {files: ['large.elf']}), FLAT, {pageSize: 0x1000n});
}

/** Awaits `p` and checks it fails with a KexecError of this exit code and reason, whose message matches. */
export async function refusal(p: Promise<unknown>, code: number, reason: string, message: RegExp): Promise<KexecError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof KexecError, `expected a KexecError, got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  return caught;
}
