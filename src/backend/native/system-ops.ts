/**
 * The real SystemOps of the clean exec (src/backend/native/clean-exec.ts): programs run without a shell and by
 * absolute path, signals sent with kill(2) through process.kill (which accepts -1 and 1 as kill(2) does), and
 * stderr writes that never throw: after kill(-1, SIGTERM) the terminal or sshd that stderr led to is gone.
 */
import {spawn} from 'node:child_process';
import {existsSync} from 'node:fs';
import type {RunResult, ShutdownSignal, SystemOps} from './clean-exec.js';

/** reboot.c ignores these six, so that neither our kill(-1) nor a hang-up stops a half-done shutdown. */
const HELD: readonly NodeJS.Signals[] = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGTSTP', 'SIGPIPE'];

function errnoName(e: unknown): string {
  return typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : String(e);
}

function run(file: string, args: readonly string[], options: {timeoutMs?: number; capture?: boolean} = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    let stdout = '';
    let timedOut = false;
    // Not captured: stdout joins stderr (fd 2), and only the exit is awaited, so a daemon that rc.shutdown leaves
    // holding the descriptor cannot stall the shutdown.
    const child = spawn(file, [...args], {stdio: ['ignore', options.capture === true ? 'pipe' : 2, 2]});
    const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
    }, options.timeoutMs);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => void (stdout += d));
    child.on('error', (e) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({status: null, timedOut, stdout: '', error: errnoName(e)});
    });
    child.on(options.capture === true ? 'close' : 'exit', (status: number | null) => {
      if (timer !== undefined) clearTimeout(timer);
      resolve({status, timedOut, stdout: stdout.trim()});
    });
  });
}

export const SYSTEM_OPS: SystemOps = {
  run,
  signal(pid: number, sig: ShutdownSignal): string {
    try {
      process.kill(pid, sig);
      return 'ok';
    } catch (e) {
      return errnoName(e);
    }
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  exists: (path) => existsSync(path),
  holdSignals(): void {
    for (const s of HELD) process.on(s, () => undefined);
    // A write to a terminal that has gone away fails with EIO or EPIPE: not a reason to stop.
    process.stderr.on('error', () => undefined);
    process.stdout.on('error', () => undefined);
  },
  say(line: string): void {
    try {
      process.stderr.write(`kexec-ts: ${line}\n`);
    } catch {
      // the terminal is gone; the shutdown goes on
    }
  },
};
