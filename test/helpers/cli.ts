/**
 * Runs a kexec-ts command in this process, as oclif's `execute` would from bin/run.js (the compiled commands in
 * dist/, so `npm run build` first), and captures what it writes: for tests that need only a command's result,
 * not a process of its own (exit codes of real processes, signals and streams stay with the subprocess tests).
 * The environment is a script's: CI=true, no colours, no config file found by searching (the working directory is
 * an empty temp dir and KEXEC_TS_SYSCONFDIR points at a directory that does not exist). Calls are serialized:
 * the working directory and environment are process-wide. Output is captured by asynchronous context
 * (AsyncLocalStorage), so only what the command writes is taken: the test runner's own reports, written to the same
 * stdout from outside the command, pass through untouched.
 */
import {AsyncLocalStorage} from 'node:async_hooks';
import {mkdtempSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {CLI_ROOT, CLI_SKIP, type CliResult} from './cli-root.js';

export const IN_PROCESS_SKIP: string | false = CLI_SKIP;

/** Where every run starts unless told otherwise: empty, so the config search finds nothing. */
const NEUTRAL = mkdtempSync(join(tmpdir(), 'kexec-cli-cwd-'));
process.on('exit', () => rmSync(NEUTRAL, {recursive: true, force: true}));

export interface InProcessOptions {
  /** Extra environment (undefined removes a variable). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
}

let queue: Promise<unknown> = Promise.resolve();

type Write = typeof process.stdout.write;

interface Capture {
  readonly out: string[];
  readonly err: string[];
}

const capturing = new AsyncLocalStorage<Capture>();

/** Routes a stream's writes made inside a captured command to its sink; everything else to the stream. */
function intercept(stream: NodeJS.WriteStream, pick: (c: Capture) => string[]): void {
  const original = stream.write.bind(stream) as Write;
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const c = capturing.getStore();
    if (c === undefined) return (original as (...a: unknown[]) => boolean)(chunk, ...rest);
    pick(c).push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    const cb = rest.find((r): r is () => void => typeof r === 'function');
    if (cb !== undefined) cb();
    return true;
  }) as Write;
}

intercept(process.stdout, (c) => c.out);
intercept(process.stderr, (c) => c.err);

async function runOnce(args: readonly string[], o: InProcessOptions): Promise<CliResult> {
  const env: Record<string, string | undefined> = {
    CI: 'true', NO_COLOR: '1', KEXEC_TS_SYSCONFDIR: join(NEUTRAL, 'no-etc'),
    KEXEC_TS_DEBUG: undefined, KEXEC_TS_CONFIG: undefined, FORCE_COLOR: undefined, ...o.env,
  };
  const saved = new Map(Object.keys(env).map((k) => [k, process.env[k]]));
  const cwd = process.cwd();
  const out: string[] = [];
  const err: string[] = [];
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  process.chdir(o.cwd ?? NEUTRAL);
  process.exitCode = 0;
  let code: number;
  try {
    // Imported on first use: files that import this module only for a skip reason never load oclif.
    const {run} = await import('@oclif/core');
    await capturing.run({out, err}, () => run([...args], CLI_ROOT));
    code = typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    // What oclif's handle() does for errors no command caught (unknown command, --help's exit), minus process.exit.
    const oclif = (e as {oclif?: {exit?: number}; code?: string}).oclif;
    const isExit = (e as {code?: string}).code === 'EEXIT';
    if (!isExit) err.push(`${(e as Error).message}\n`);
    code = oclif?.exit ?? 1;
  } finally {
    process.exitCode = 0;
    process.chdir(cwd);
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
  return {code, stdout: out.join(''), stderr: err.join('')};
}

/** `kexec-ts ARGS` in this process; never rejects, whatever the exit code. */
export function cli(args: readonly string[], o: InProcessOptions = {}): Promise<CliResult> {
  const next = queue.then(() => runOnce(args, o));
  queue = next.catch(() => undefined);
  return next;
}
