/**
 * The simulated machine's staged image and boot record on disk. A staged image is a generation directory
 * (`gen-<time>-<pid>-<random>/`: plan.json, segment-NN.bin, record.json) made visible only by atomically
 * renaming a `current` symlink onto it after every file and the directory are fsynced. So a load killed at any
 * instant leaves either the old `current` (the previous image, untouched) or the new one, never a mixture; the
 * half-written generation it leaves behind is removed by the next operation that holds the lock.
 */
import {mkdirSync, readFileSync, readdirSync, readlinkSync, renameSync, rmSync, symlinkSync} from 'node:fs';
import {join} from 'node:path';
import type {BootRecord, StagedRecord} from '../types.js';
import {KexecError} from '../../errors.js';
import {segmentFileName} from '../../plan/export.js';
import {planToJSON, type PlanJSON} from '../../plan/plan-json.js';
import {forEachChunk} from '../../plan/segment-bytes.js';
import type {Plan} from '../../plan/types.js';
import {fsyncDir, uniqueName, unlinkIfPresent, writeFileAtomic, writeFileDurable} from './durable-fs.js';
import {pidAlive} from './lock.js';
import {parsePlanJSON} from './staged-plan.js';

export interface StagedGeneration {
  readonly dir: string;
  readonly record: StagedRecord;
}

const GEN = /^gen-[0-9]+-[0-9]+-[0-9a-f]+$/;
const CURRENT = 'current';

function corrupt(path: string, what: string): KexecError {
  return new KexecError('backend', `sim: ${path}: ${what}`, {reason: 'state-corrupt', hint: 'run `unload` to drop the staged image'});
}

function readJSON(path: string): unknown {
  const text = readFileSync(path, 'utf8');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw corrupt(path, `not valid JSON (${(e as Error).message})`);
  }
}

function text(value: unknown): Buffer {
  return Buffer.from(`${JSON.stringify(value, null, 2)}\n`, 'utf8');
}

export class StateStore {
  constructor(readonly dir: string) {}

  private get currentLink(): string {
    return join(this.dir, CURRENT);
  }

  /** Name of the generation `current` points at, or undefined when nothing is staged. */
  private currentName(): string | undefined {
    let target: string;
    try {
      target = readlinkSync(this.currentLink);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return undefined;
      if (code === 'EINVAL') throw corrupt(this.currentLink, 'is not a symlink');
      throw e;
    }
    if (!GEN.test(target)) throw corrupt(this.currentLink, `points at ${JSON.stringify(target)}, not a generation directory`);
    return target;
  }

  /** The staged generation, or undefined. Safe without the lock (retries if exec removes it meanwhile). */
  current(): StagedGeneration | undefined {
    for (let attempt = 0; ; attempt++) {
      const name = this.currentName();
      if (name === undefined) return undefined;
      const dir = join(this.dir, name);
      try {
        return {dir, record: parseRecord(join(dir, 'record.json'), readJSON(join(dir, 'record.json')))};
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
        if (attempt >= 3) throw corrupt(this.currentLink, `points at ${name}, which has no record.json`);
      }
    }
  }

  /** plan.json of a generation, checked for shape. */
  readPlan(gen: StagedGeneration): PlanJSON {
    const path = join(gen.dir, 'plan.json');
    return parsePlanJSON(path, readJSON(path));
  }

  segmentPath(gen: StagedGeneration, index: number): string {
    return join(gen.dir, segmentFileName(index));
  }

  /**
   * Under the lock: writes the plan's bytes (as copyin captures them) into a new generation, fsyncs it, switches
   * `current` to it and deletes every other generation. Returns the new generation.
   */
  stage(plan: Plan, record: StagedRecord): StagedGeneration {
    mkdirSync(this.dir, {recursive: true, mode: 0o700});
    const name = uniqueName(`gen-${Date.now()}-`);
    const dir = join(this.dir, name);
    mkdirSync(dir, {mode: 0o700});
    fsyncDir(this.dir);
    plan.segments.forEach((seg, i) => {
      writeFileDurable(join(dir, segmentFileName(i)), (write) => forEachChunk(seg, false, write));
    });
    writeFileDurable(join(dir, 'plan.json'), (write) => write(text(planToJSON(plan))));
    writeFileDurable(join(dir, 'record.json'), (write) => write(text(record)));
    fsyncDir(dir);
    const tmp = join(this.dir, uniqueName('.current.tmp-'));
    symlinkSync(name, tmp);
    renameSync(tmp, this.currentLink);
    fsyncDir(this.dir);
    this.removeGenerations(name);
    return {dir, record};
  }

  /** Under the lock: nothing staged any more (unload, or the machine rebooted into the image). */
  clearStaged(): void {
    if (unlinkIfPresent(this.currentLink)) fsyncDir(this.dir);
    this.removeGenerations(undefined);
  }

  /**
   * Under the lock: removes what interrupted operations left behind: generations `current` does not point at,
   * temporary symlinks, and temporary files and set-aside locks of processes that are gone. Returns their names.
   */
  cleanStrays(): string[] {
    const keep = this.currentName();
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
    const path = join(this.dir, 'booted.json');
    let raw: unknown;
    try {
      raw = readJSON(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    const o = (raw ?? {}) as Record<string, unknown>;
    if (typeof o.digest !== 'string' || typeof o.kernel !== 'string' || typeof o.bootedAt !== 'string') {
      throw corrupt(path, 'is not {digest, kernel, bootedAt}');
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
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
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

function parseRecord(path: string, raw: unknown): StagedRecord {
  const o = (raw ?? {}) as Record<string, unknown>;
  const strings = ['digest', 'kind', 'arch', 'entry', 'memsz', 'stagedAt'] as const;
  for (const k of strings) if (typeof o[k] !== 'string') throw corrupt(path, `${k} is not a string`);
  if (o.backend !== 'sim') throw corrupt(path, `backend is ${JSON.stringify(o.backend)}, expected "sim"`);
  if (typeof o.segments !== 'number') throw corrupt(path, 'segments is not a number');
  if (!Array.isArray(o.files) || !o.files.every((f) => typeof f === 'string')) throw corrupt(path, 'files is not a list of names');
  return {
    backend: 'sim',
    digest: o.digest as string,
    kind: o.kind as string,
    arch: o.arch as string,
    entry: o.entry as string,
    files: o.files as string[],
    segments: o.segments,
    memsz: o.memsz as string,
    stagedAt: o.stagedAt as string,
  };
}
