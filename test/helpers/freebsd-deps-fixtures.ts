/**
 * Module trees for the FreeBSD dependency tests: a temp root holding an amd64 test kernel (in its own directory,
 * because planFiles puts the kernel's directory first in the module path) and module directories filled with
 * modules from test/fixtures/freebsd-module.ts and linker.hints from test/helpers/linker-hints-writer.ts; and
 * in-process planning that returns the handoff (or the KexecError) in plain shapes.
 */
import {planToJSON} from '../../src/plan/codec.js';
import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {basename, join} from 'node:path';
import {KexecError} from '../../src/errors.js';
import {planFiles, type PlanRequest} from '../../src/pipeline/plan-files.js';
import type {Plan} from '../../src/plan/types.js';
import {buildFreeBsdKernel, type KernelSpec} from '../fixtures/freebsd-kernel.js';
import {buildFreeBsdModule, type ModuleSpec} from '../fixtures/freebsd-module.js';
import {writeHintsFile, type HintEntry} from './linker-hints-writer.js';
import {materializeBytes} from '../../src/io/file-bytes.js';

/** What freebsd-image.ts puts in plan.handoff (the parts these tests read). */
export interface HandoffFile {
  name: string;
  type: string;
  addr: string;
  size: string;
  modules: string[];
  args?: string;
}

export interface Handoff {
  howto: string;
  env: Record<string, string>;
  files: HandoffFile[];
  dependencies: {file: string; module: string; neededBy: string; how: string}[];
}

export interface Planned {
  plan: Plan;
  handoff: Handoff;
  /** Basenames of the loaded files after the kernel, in load order. */
  order: string[];
}

/** sys/sys/reboot.h */
export const RB_SINGLE = 0x2;
export const RB_VERBOSE = 0x800;

/**
 * Text size for fixture modules: small, so .text sits inside the first shnum * 64 bytes of the file, where a
 * layout that patched the section table in place (instead of in a copy) would corrupt it; the test "the module
 * bytes in the plan are the file bytes" checks they are not.
 */
export const MODULE_TEXT = 0x40;

export class ModuleTree {
  readonly root = mkdtempSync(join(tmpdir(), 'kexec-deps-'));

  /** An amd64 kernel (version 1402000 unless given) alone in ROOT/kernel-N/, so it adds nothing to the search. */
  kernel(spec: Partial<KernelSpec> = {}): string {
    const dir = this.dir(`kernel-${Math.random().toString(36).slice(2, 8)}`);
    const path = join(dir, 'kernel');
    writeFileSync(path, buildFreeBsdKernel({arch: 'amd64', version: 1402000, ...spec}));
    return path;
  }

  dir(name: string): string {
    const d = join(this.root, name);
    mkdirSync(d, {recursive: true});
    return d;
  }

  /** DIR/FILE holding a module built from `spec` (FILE defaults to NAME.ko). */
  module(dir: string, spec: ModuleSpec, file = `${spec.name}.ko`): string {
    const path = join(this.dir(dir), file);
    writeFileSync(path, buildFreeBsdModule({textSize: MODULE_TEXT, ...spec}));
    return path;
  }

  hints(dir: string, entries: readonly HintEntry[]): string {
    return writeHintsFile(this.dir(dir), entries);
  }

  text(name: string, content: string): string {
    const path = join(this.root, name);
    writeFileSync(path, content);
    return path;
  }

  remove(): void {
    rmSync(this.root, {recursive: true, force: true});
  }
}

/** A dependency spec: name [min, max] preferred. */
export const dep = (name: string, min: number, preferred: number, max: number): {name: string; min: number; preferred: number; max: number} =>
  ({name, min, preferred, max});

export async function planOk(req: PlanRequest): Promise<Planned> {
  const {plan} = await planFiles(req);
  assert.equal(plan.kind, 'freebsd');
  const handoff = planToJSON(plan).handoff as unknown as Handoff;
  assert.ok(Array.isArray(handoff.files) && Array.isArray(handoff.dependencies), 'plan.handoff has files and dependencies');
  assert.equal(handoff.files[0]?.type, 'elf kernel', 'the kernel is the first file');
  return {plan, handoff, order: handoff.files.slice(1).map((f) => basename(f.name))};
}

/** planFiles must reject with a KexecError; returns it. */
export async function planFails(req: PlanRequest): Promise<KexecError> {
  try {
    await planFiles(req);
  } catch (e) {
    assert.ok(e instanceof KexecError, `a KexecError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), `one-line message: ${e.message}`);
    return e;
  }
  assert.fail(`planning ${req.image} ${req.modules.join(' ')} should have failed`);
}

/** Bytes of the plan at physical [mem, mem + len) (zeros where no part covers it). */
export function planBytes(plan: Plan, mem: bigint, len: number): Uint8Array {
  const out = new Uint8Array(len);
  const end = mem + BigInt(len);
  for (const s of plan.segments) {
    for (const p of s.parts) {
      const at = s.mem + p.offset;
      const lo = at > mem ? at : mem;
      const hi = at + BigInt(p.data.length) < end ? at + BigInt(p.data.length) : end;
      if (lo < hi) out.set(materializeBytes(p.data.subarray(Number(lo - at), Number(hi - at))), Number(lo - mem));
    }
  }
  return out;
}
