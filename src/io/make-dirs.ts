/**
 * `mkdir -p`, one component at a time. Node 20's mkdirSync({recursive: true}) loops forever on some paths that
 * cannot be created (under /proc, where mkdir fails with ENOENT on a parent that exists), burning a CPU: a root
 * tool must fail instead. Each missing component is created with `mode`; the first error is thrown as it is
 * (the caller names the path), so EACCES, ENOTDIR and EROFS keep their errno.
 */
import {mkdirSync, statSync, type Stats} from 'node:fs';
import {dirname, resolve} from 'node:path';
import {errnoCode} from './read-input.js';

function statOrUndefined(p: string): Stats | undefined {
  try {
    return statSync(p);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}

export function makeDirs(path: string, mode = 0o700): void {
  const missing: string[] = [];
  for (let p = resolve(path); ; p = dirname(p)) {
    const st = statOrUndefined(p);
    if (st !== undefined) {
      if (!st.isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, mkdir '${p}'`), {code: 'ENOTDIR', path: p});
      break;
    }
    missing.unshift(p);
    if (dirname(p) === p) break;
  }
  for (const p of missing) {
    try {
      mkdirSync(p, {mode});
    } catch (e) {
      if (errnoCode(e) !== 'EEXIST' || statOrUndefined(p)?.isDirectory() !== true) throw e;
    }
  }
}
