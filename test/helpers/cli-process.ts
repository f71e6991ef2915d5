/**
 * Runs the compiled CLI in a process of its own (`node bin/run.js`, so `npm run build` first), as a user would from
 * a script: stdin not a terminal, CI=true, stdout and stderr piped separately, no config file found by searching
 * (the working directory is an empty temp dir and KEXEC_TS_SYSCONFDIR points at a directory that does not exist).
 * Only for what a process shows and an in-process run cannot: real exit codes and streams, signals, two commands
 * racing for a lock. Tests that need only a command's result use cli.ts.
 */
import {spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {CLI_BIN} from './cli-root.js';

/** Where every run starts unless told otherwise: empty, so the config search finds nothing. */
const NEUTRAL = mkdtempSync(join(tmpdir(), 'kexec-life-cwd-'));
process.on('exit', () => rmSync(NEUTRAL, {recursive: true, force: true}));

export interface RunOptions {
  /** Extra environment (undefined removes a variable). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Running {
  readonly child: ChildProcess;
  readonly done: Promise<CliRun>;
  /** Resolves when a line of stderr matches `re` (rejects when the process exits first). */
  stderrLine(re: RegExp): Promise<string>;
}

function cliEnv(extra: RunOptions['env']): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, CI: 'true', NO_COLOR: '1', KEXEC_TS_SYSCONFDIR: join(NEUTRAL, 'no-etc')};
  for (const k of ['KEXEC_TS_DEBUG', 'KEXEC_TS_CONFIG', 'FORCE_COLOR', 'KEXEC_MOCK_LOG', 'KEXEC_MOCK_ERRNO']) delete env[k];
  for (const [k, v] of Object.entries(extra ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Starts `node bin/run.js ARGS` with stdin closed (not a TTY) and both output streams piped. */
export function startCli(args: readonly string[], o: RunOptions = {}): Running {
  const child = spawn(process.execPath, ['--', CLI_BIN, ...args], {cwd: o.cwd ?? NEUTRAL, env: cliEnv(o.env), stdio: ['ignore', 'pipe', 'pipe']});
  let stdout = '';
  let stderr = '';
  const waiters: {re: RegExp; resolve: (l: string) => void; reject: (e: Error) => void}[] = [];
  const check = (): void => {
    for (const w of [...waiters]) {
      const line = stderr.split('\n').find((l) => w.re.test(l));
      if (line !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => void (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    check();
  });
  const done = new Promise<CliRun>((resolve) => {
    child.on('close', (code, signal) => {
      for (const w of waiters.splice(0)) w.reject(new Error(`exited (${code ?? signal}) before a stderr line matched ${w.re}:\n${stderr}`));
      resolve({code, signal, stdout, stderr});
    });
  });
  return {
    child,
    done,
    stderrLine: (re) => new Promise((resolve, reject) => {
      waiters.push({re, resolve, reject});
      check();
    }),
  };
}

/** `node bin/run.js ARGS` to its end. */
export function runCliProcess(args: readonly string[], o: RunOptions = {}): Promise<CliRun> {
  return startCli(args, o).done;
}
