/**
 * The staging store of the simulated backends (sim and qemu use it as equals): the staged image and the boot
 * record on disk. A staged image is a generation directory (`gen-<time>-<pid>-<random>/`: plan.json,
 * segment-NN.bin, record.json) made visible only by atomically renaming a `current` symlink onto it after every
 * file and the directory are fsynced. So a load killed at any instant leaves either the old `current` (the
 * previous image, untouched) or the new one, never a mixture; the half-written generation it leaves behind is
 * removed by the next operation that holds the lock. Messages name the backend that owns the store.
 */
import {mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync} from 'node:fs';
import {join} from 'node:path';
import {KexecError} from '../../errors.js';
import {errnoCode} from '../../io/read-input.js';
import {assertTrusted} from '../../io/trust.js';
import {planFromJSON, planToJSON} from '../../plan/codec.js';
import {changedFields, planDigest, planFieldDigests} from '../../plan/digest.js';
import type {Plan, PlanDescription} from '../../plan/types.js';
import type {BackendName, BootRecord, StagedRecord} from '../types.js';
import {fsyncDir, uniqueName, unlinkIfPresent, writeFileAtomic, writeFileDurable} from './durable-fs.js';
import {pidAlive} from './lock.js';
import {stateIoError} from './state-errors.js';
import {segmentFileName, writeSegmentFiles} from './segment-files.js';
import {parseStagedRecord} from './staged-record.js';

export interface StagedGeneration {
  readonly dir: string;
  readonly record: StagedRecord;
}

export type StagingBackend = Exclude<BackendName, 'native'>;

const GEN = /^gen-[0-9]+-[0-9]+-[0-9a-f]+$/;
const CURRENT = 'current';

function text(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

export class StateStore {
  constructor(readonly dir: string, readonly backend: StagingBackend) {}

  corrupt(path: string, what: string): KexecError {
    return new KexecError('backend', `${this.backend}: ${path}: ${what}`, {reason: 'state-corrupt', hint: 'run `kexec-ts unload` to drop the staged image'});
  }

  /** The state directory, checked by src/io/trust.ts before anything in it is read (exit 5 when untrusted). */
  private trustDir(): void {
    assertTrusted(this.dir, {what: `${this.backend}: state directory`, kind: 'dir'});
  }

  private readJSON(path: string): unknown {
    assertTrusted(path, {what: `${this.backend}: state file`, kind: 'file'});
    let raw: string;
    try {
      raw = readFileSync(path, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw e;
      throw stateIoError(e, `${this.backend}: state file`, path);
    }
    try {
      return JSON.parse(raw);
    } catch (e) {
      throw this.corrupt(path, `not valid JSON (${(e as Error).message})`);
    }
  }

  private get currentLink(): string {
    return join(this.dir, CURRENT);
  }

  /** Name of the generation `current` points at, or undefined when nothing is staged. */
  private currentName(): string | undefined {
    let target: string;
    try {
      target = readlinkSync(this.currentLink);
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return undefined;
      if (code === 'EINVAL') throw this.corrupt(this.currentLink, 'is not a symlink');
      throw stateIoError(e, `${this.backend}: state`, this.currentLink);
    }
    if (!GEN.test(target)) throw this.corrupt(this.currentLink, `points at ${JSON.stringify(target)}, not a generation directory`);
    return target;
  }

  /** The staged generation, or undefined. Safe without the lock (retries if exec removes it meanwhile). */
  current(): StagedGeneration | undefined {
    this.trustDir();
    for (let attempt = 0; ; attempt++) {
      const name = this.currentName();
      if (name === undefined) return undefined;
      const dir = join(this.dir, name);
      const path = join(dir, 'record.json');
      try {
        // A generation swapped for a symlink or for a directory somebody else owns is never read.
        assertTrusted(dir, {what: `${this.backend}: staged generation`, kind: 'dir'});
        const raw = this.readJSON(path);
        const owner = (raw as {backend?: unknown} | null)?.backend;
        if ((owner === 'sim' || owner === 'qemu') && owner !== this.backend) {
          throw new KexecError('backend', `${this.backend}: the image staged in ${this.dir} was loaded by the ${owner} backend`, {
            reason: 'staged-by-other-backend', hint: `use --backend ${owner} for it, or give this backend its own --state-dir`,
          });
        }
        return {dir, record: parseStagedRecord(raw, this.backend, (what) => this.corrupt(path, what))};
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
        if (attempt >= 3) throw this.corrupt(this.currentLink, `points at ${name}, which has no record.json`);
      }
    }
  }

  /**
   * plan.json of a generation, decoded by the plan codec and checked against what was staged: every field the
   * digest covers must still hash to the record's field digest (the fields that do not are named), and the
   * plan's own digest must be the record's.
   */
  readPlan(gen: StagedGeneration): PlanDescription {
    const path = join(gen.dir, 'plan.json');
    const plan = planFromJSON(this.readJSON(path), path, 'backend');
    const changed = changedFields(gen.record.fields, planFieldDigests(plan));
    if (changed.length > 0) {
      throw new KexecError('backend', `${this.backend}: ${path}: ${changed.map((f) => `"${f}"`).join(', ')} changed since the image was loaded (its digest differs from record.json's)`, {
        reason: 'plan-tampered', details: {fields: changed}, hint: 'the staged image is not what was loaded: load it again',
      });
    }
    const digest = planDigest(plan);
    if (digest !== plan.digest || digest !== gen.record.digest) {
      throw new KexecError('backend', `${this.backend}: ${path}: plan digest mismatch: its fields give ${digest}, plan.json says ${plan.digest}, record.json says ${gen.record.digest}`, {
        reason: 'plan-digest-mismatch', hint: 'the staged image is not what was loaded: load it again',
      });
    }
    return plan;
  }

  segmentPath(gen: StagedGeneration, index: number): string {
    return join(gen.dir, segmentFileName(index));
  }

  /**
   * Under the lock: writes the plan's bytes (as copyin captures them) into a new generation, fsyncs it, switches
   * `current` to it and deletes every other generation. Returns the new generation.
   */
  stage(plan: Plan, record: StagedRecord): StagedGeneration {
    const name = uniqueName(`gen-${Date.now()}-`);
    const dir = join(this.dir, name);
    const tmp = join(this.dir, uniqueName('.current.tmp-'));
    try {
      mkdirSync(dir, {mode: 0o700});
      fsyncDir(this.dir);
      writeSegmentFiles(dir, plan.segments);
      writeFileDurable(join(dir, 'plan.json'), (write) => write(text(planToJSON(plan))));
      writeFileDurable(join(dir, 'record.json'), (write) => write(text(record)));
      fsyncDir(dir);
      symlinkSync(name, tmp);
      renameSync(tmp, this.currentLink);
    } catch (e) {
      // ENOSPC and friends: the partial generation goes now, not at the next command (it fills the disk).
      rmSync(dir, {recursive: true, force: true});
      rmSync(tmp, {force: true});
      throw stateIoError(e, `${this.backend}: cannot stage in`, dir);
    }
    fsyncDir(this.dir);
    this.removeGenerations(name);
    return {dir, record};
  }

  /** Under the lock: nothing staged any more (unload, or the machine rebooted into the image). */
  clearStaged(): void {
    // Whatever `current` is (a symlink, or something corrupt in its place), it goes with every generation.
    rmSync(this.currentLink, {recursive: true, force: true});
    fsyncDir(this.dir);
    this.removeGenerations(undefined);
  }

  /** Under the lock (unload): removes booted.json when it cannot be parsed, so status works again. */
  clearCorruptBooted(): void {
    try {
      this.booted();
    } catch (e) {
      if (!(e instanceof KexecError) || e.reason !== 'state-corrupt') throw e;
      rmSync(join(this.dir, 'booted.json'), {force: true});
      fsyncDir(this.dir);
    }
  }

  /**
   * Under the lock: removes what interrupted operations left behind: generations `current` does not point at,
   * temporary symlinks, and temporary files and set-aside locks of processes that are gone. Returns their names.
   */
  cleanStrays(): string[] {
    let keep: string | undefined;
    try {
      keep = this.currentName();
    } catch (e) {
      // A corrupt `current`: keep every generation for unload (which clears them) and for the error that follows.
      if (e instanceof KexecError && e.reason === 'state-corrupt') return [];
      throw e;
    }
    const removed = this.removeGenerations(keep);
    for (const entry of this.entries()) {
      const tmpOwner = /^\.(?:current|machine\.json)\.tmp-([0-9]+)-/.exec(entry) ?? /^lock\.stale-([0-9]+)-/.exec(entry);
      if (tmpOwner === null) continue;
      if (entry.startsWith('.current.') || !pidAlive(Number(tmpOwner[1]))) {
        rmSync(join(this.dir, entry), {force: true});
        removed.push(entry);
      }
    }
    return removed;
  }

  booted(): BootRecord | null {
    this.trustDir();
    const path = join(this.dir, 'booted.json');
    let raw: unknown;
    try {
      raw = this.readJSON(path);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return null;
      throw e;
    }
    const o = (raw ?? {}) as Record<string, unknown>;
    if (typeof o.digest !== 'string' || typeof o.kernel !== 'string' || typeof o.bootedAt !== 'string') {
      throw this.corrupt(path, 'is not {digest, kernel, bootedAt}');
    }
    return {digest: o.digest, kernel: o.kernel, bootedAt: o.bootedAt};
  }

  writeBooted(record: BootRecord | null): void {
    const path = join(this.dir, 'booted.json');
    if (record === null) {
      if (unlinkIfPresent(path)) fsyncDir(this.dir);
    } else {
      writeFileAtomic(path, text(record).toString('utf8'));
    }
  }

  private entries(): string[] {
    try {
      return readdirSync(this.dir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw e;
    }
  }

  private removeGenerations(keep: string | undefined): string[] {
    const removed: string[] = [];
    for (const entry of this.entries()) {
      if (!GEN.test(entry) || entry === keep) continue;
      rmSync(join(this.dir, entry), {recursive: true, force: true});
      removed.push(entry);
    }
    if (removed.length > 0) fsyncDir(this.dir);
    return removed;
  }
}
