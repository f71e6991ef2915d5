/**
 * The test side of stage-gate-preload.mjs: an event-based gate that holds a load inside STATEDIR/lock, with its
 * first segment bytes written, until the test lets it go. Tests of locking and crash safety use it to know that
 * two loads really overlapped, or that a kill landed mid-write, instead of hoping a large image takes long enough.
 *
 *   const gate = stageGate(t);
 *   const child = spawn(node, [...gate.nodeArgs, script]) // or startCli(args, {env: gate.env})
 *   const pid = await gate.inside(exited);               // that process holds the lock now, mid-write
 *   ... start a competing load, or child.kill('SIGKILL') ...
 *   await gate.open();                                   // it goes on and finishes its load
 */
import {spawnSync} from 'node:child_process';
import {closeSync, constants, existsSync, mkdtempSync, openSync, readFileSync, rmSync, watch} from 'node:fs';
import {writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';

const PRELOAD = new URL('./stage-gate-preload.mjs', import.meta.url).href;

export interface StageGate {
  /** Environment of a gated process (NODE_OPTIONS carries the preload: for `node bin/run.js`). */
  readonly env: Readonly<Record<string, string>>;
  /** Node options of a gated process started directly (add `env` too). */
  readonly nodeArgs: readonly string[];
  /** The pid of the process held at the gate; rejects when `ended` settles before one arrives. */
  inside(ended: Promise<unknown>): Promise<number>;
  /** Lets the held process go on with its load. */
  open(): Promise<void>;
}

/** A gate for one process, removed (and a pending open() unblocked) when the test ends. */
export function stageGate(t: {after: (fn: () => void) => void}): StageGate {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-gate-'));
  const go = join(dir, 'go');
  const mk = spawnSync('mkfifo', [go], {encoding: 'utf8'});
  if (mk.status !== 0) throw new Error(`mkfifo ${go}: ${mk.stderr || mk.error?.message}`);
  let opening = false;
  let unblocked = false;
  t.after(() => {
    // A writer still waiting for the held process (killed, or the test failed first) would keep this process alive.
    if (opening) {
      unblocked = true;
      closeSync(openSync(go, constants.O_RDONLY | constants.O_NONBLOCK));
    }
    rmSync(dir, {recursive: true, force: true});
  });
  const marker = join(dir, 'inside');
  return {
    env: {NODE_OPTIONS: `--import=${PRELOAD}`, KEXEC_TEST_GATE: dir},
    nodeArgs: ['--import', PRELOAD],
    inside: (ended) => new Promise<number>((resolve, reject) => {
      const watcher = watch(dir);
      let settled = false;
      const check = (): void => {
        if (settled || !existsSync(marker)) return;
        settled = true;
        watcher.close();
        resolve(Number(readFileSync(marker, 'utf8').trim()));
      };
      watcher.on('change', check);
      check();
      void ended.then(() => {
        check();
        if (settled) return;
        settled = true;
        watcher.close();
        reject(new Error('the process ended before its load reached the stage gate'));
      });
    }),
    open: async () => {
      opening = true;
      try {
        await writeFile(go, 'go\n');
      } catch (e) {
        if (!unblocked) throw e;
      } finally {
        opening = false;
      }
    },
  };
}
