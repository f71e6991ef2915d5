/**
 * SHA-256 of several byte streams at once, on worker threads: each job is a list of runs (bytes in memory, zeros,
 * or a range of an input file) hashed in order by one worker, and workers take the next job as they finish, so
 * one worker's file reads overlap another's hashing and both cores work. A worker reads files itself, by path,
 * after checking the file is still the one that was opened (InputFile's identity), in 1 MiB chunks. Errors come
 * back as the same one-line KexecErrors the main thread would raise. The worker is a short CommonJS script run
 * with `eval`, so it works the same from the bundle, from dist/ and under tsx.
 */
import {KexecError} from '../errors.js';
import type {InputFileDescription} from './input-file.js';
import {inputErrnoError, inputError} from './read-input.js';

export type HashRun =
  | {readonly kind: 'bytes'; readonly data: Uint8Array}
  | {readonly kind: 'zeros'; readonly length: number}
  | {readonly kind: 'file'; readonly file: InputFileDescription; readonly offset: number; readonly length: number};

const WORKER = `
const {parentPort} = require('node:worker_threads');
const {createHash} = require('node:crypto');
const fs = require('node:fs');
const CHUNK = 1 << 20;
const buf = Buffer.allocUnsafe(CHUNK);
const zeros = Buffer.alloc(CHUNK);
const same = (st, id) => Number(st.dev) === id.dev && Number(st.ino) === id.ino && Number(st.size) === id.size &&
  String(st.mtimeNs) === id.mtimeNs && String(st.ctimeNs) === id.ctimeNs;
function hashFile(h, run) {
  const fd = fs.openSync(run.file.path, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    if (!same(fs.fstatSync(fd, {bigint: true}), run.file.identity)) throw {changed: 'changed while kexec-ts was using it'};
    for (let at = 0; at < run.length; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(CHUNK, run.length - at), run.offset + at);
      if (n === 0) throw {changed: 'ends at 0x' + (run.offset + at).toString(16) + ', before the size it had when opened'};
      h.update(buf.subarray(0, n));
      at += n;
    }
  } finally {
    fs.closeSync(fd);
  }
}
parentPort.on('message', ({id, runs}) => {
  let run;
  try {
    const h = createHash('sha256');
    for (run of runs) {
      if (run.kind === 'bytes') h.update(run.data);
      else if (run.kind === 'zeros') for (let n = run.length; n > 0; n -= CHUNK) h.update(zeros.subarray(0, Math.min(CHUNK, n)));
      else hashFile(h, run);
    }
    parentPort.postMessage({id, sha256: h.digest('hex')});
  } catch (e) {
    parentPort.postMessage({id, error: {changed: e && e.changed, code: e && e.code, message: String(e && e.message), file: run && run.file}});
  }
});
`;

interface Reply {
  readonly id: number;
  readonly sha256?: string;
  readonly error?: {changed?: string; code?: string; message: string; file?: InputFileDescription};
}

function replyError(e: NonNullable<Reply['error']>): KexecError {
  if (e.file === undefined) return new KexecError('internal', `internal error: hashing worker: ${e.message}`);
  if (e.changed !== undefined) return inputError(e.file.path, e.file.options, e.changed, 'input-changed');
  return inputErrnoError(e.file.path, e.file.options, {code: e.code});
}

/** SHA-256 (hex) of each job's runs, in job order, on up to `threads` workers. */
export async function sha256Parallel(jobs: readonly (readonly HashRun[])[], threads: number): Promise<string[]> {
  const out: string[] = new Array<string>(jobs.length);
  const size = (job: readonly HashRun[]): number => job.reduce((n, r) => n + (r.kind === 'bytes' ? r.data.length : r.length), 0);
  // Largest first, so the last job to start is a small one and the workers finish together.
  const queue = jobs.map((job, id) => ({id, job})).sort((a, b) => size(b.job) - size(a.job));
  // Imported here: most commands never start a worker, and loading worker_threads costs start-up time.
  const {Worker} = await import('node:worker_threads');
  const workers = Array.from({length: Math.max(1, Math.min(threads, jobs.length))}, () => new Worker(WORKER, {eval: true}));
  try {
    await Promise.all(workers.map((w) => new Promise<void>((resolve, reject) => {
      const next = (): void => {
        const item = queue.shift();
        if (item === undefined) return resolve();
        w.postMessage({id: item.id, runs: item.job});
      };
      w.on('message', (r: Reply) => {
        if (r.error !== undefined) return reject(replyError(r.error));
        out[r.id] = r.sha256 ?? '';
        next();
      });
      w.on('error', reject);
      next();
    })));
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return out;
}
