/**
 * Runs one QEMU boot and captures its serial console (stdout) line by line. A guest is not trusted to end the
 * run: the timeout kills QEMU (SIGKILL) and says so, and once the probe has printed its verdict QEMU gets a short
 * grace period to power off by itself before it is killed too. The console is kept in memory with a bound (the
 * last `maxLines` lines, each cut at 4 KiB), so a guest printing forever cannot exhaust the host.
 */
import {spawn} from 'node:child_process';
import {KexecError} from '../../errors.js';
import {cleanConsoleLine, isVerdictLine} from './console-protocol.js';
import {formatCommand, type QemuInvocation} from './qemu-command.js';

export interface QemuRunOptions {
  readonly timeoutMs: number;
  /** How long QEMU may keep running after PROBE OK / PROBE FAIL (default 3 s). */
  readonly graceMs?: number;
  /** Console lines kept (the last ones; default 20000). */
  readonly maxLines?: number;
}

export interface QemuRun {
  /** Console lines, cleaned of escape sequences and carriage returns. */
  readonly lines: readonly string[];
  /** Lines dropped from the front because of maxLines. */
  readonly droppedLines: number;
  readonly stderr: string;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly timedOut: boolean;
  /** The verdict was seen and QEMU was still running after the grace period, so it was killed. */
  readonly killedAfterVerdict: boolean;
  readonly durationMs: number;
  readonly command: string;
}

const MAX_LINE = 4096;
const MAX_STDERR = 16384;

export function runQemu(inv: QemuInvocation, options: QemuRunOptions): Promise<QemuRun> {
  const maxLines = options.maxLines ?? 20000;
  const graceMs = options.graceMs ?? 3000;
  const command = formatCommand(inv);
  const started = process.hrtime.bigint();
  return new Promise<QemuRun>((resolve, reject) => {
    const child = spawn(inv.binary, [...inv.args], {stdio: ['ignore', 'pipe', 'pipe']});
    const lines: string[] = [];
    let dropped = 0;
    let partial = '';
    let stderr = '';
    let timedOut = false;
    let verdictSeen = false;
    let killedAfterVerdict = false;
    let graceTimer: NodeJS.Timeout | undefined;

    const kill = (): void => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const onParentExit = (): void => kill();
    process.once('exit', onParentExit);
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, options.timeoutMs);

    const push = (raw: string): void => {
      const line = cleanConsoleLine(raw);
      lines.push(line);
      if (lines.length >= 2 * maxLines) {
        dropped += lines.length - maxLines;
        lines.splice(0, lines.length - maxLines);
      }
      if (!verdictSeen && isVerdictLine(line)) {
        verdictSeen = true;
        graceTimer = setTimeout(() => {
          killedAfterVerdict = child.exitCode === null && child.signalCode === null;
          kill();
        }, graceMs);
      }
    };
    child.stdout.setEncoding('latin1');
    child.stdout.on('data', (chunk: string) => {
      partial += chunk;
      let nl: number;
      while ((nl = partial.indexOf('\n')) >= 0) {
        push(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
      while (partial.length > MAX_LINE) {
        push(partial.slice(0, MAX_LINE));
        partial = partial.slice(MAX_LINE);
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      if (stderr.length < MAX_STDERR) stderr += chunk.slice(0, MAX_STDERR - stderr.length);
    });

    const finish = (): void => {
      clearTimeout(timer);
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      process.removeListener('exit', onParentExit);
    };
    child.once('error', (e: NodeJS.ErrnoException) => {
      finish();
      if (e.code === 'ENOENT') {
        reject(new KexecError('backend', `qemu: ${inv.binary} not found: install the Debian package ${inv.debianPackage}`, {
          reason: 'qemu-missing',
          hint: `apt-get install ${inv.debianPackage} (or give the QEMU binary's path)`,
          details: {binary: inv.binary, package: inv.debianPackage},
        }));
      } else {
        reject(new KexecError('backend', `qemu: cannot run ${inv.binary} (${e.code ?? 'error'}): ${e.message}`, {reason: 'qemu-failed', details: {command}}));
      }
    });
    child.once('close', (code, signal) => {
      finish();
      if (partial !== '') push(partial);
      if (lines.length > maxLines) {
        dropped += lines.length - maxLines;
        lines.splice(0, lines.length - maxLines);
      }
      resolve({
        lines, droppedLines: dropped, stderr: stderr.trim(), exitCode: code, signal, timedOut, killedAfterVerdict,
        durationMs: Number((process.hrtime.bigint() - started) / 1000000n), command,
      });
    });
  });
}
