/**
 * The one place where errors become exit codes. Every command extends BaseCommand: it parses, calls the
 * pipeline and returns its result; a KexecError becomes one line on stderr (or `{"error": …}` on stdout with
 * --json) and its documented exit code; oclif's flag and argument errors become exit 2; anything else is a bug
 * (exit 1) reported in one line, with the stack only when KEXEC_TS_DEBUG is set.
 */
import {Command, Errors, Flags} from '@oclif/core';
import {KexecError, isKexecError} from '../errors.js';
import {escapeControls, escapeLine, jsonDocument, redactJson, redactText} from '../render/output-hygiene.js';

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;
  static override baseFlags = {
    'show-secrets': Flags.boolean({description: 'print kernel environment values whose names look secret (*passphrase*, *password*, *.key, ...) instead of <redacted>'}),
  };

  /** --show-secrets, read from argv as oclif reads --json, so output written before or without parse() obeys it. */
  protected showSecrets(): boolean {
    const end = this.argv.indexOf('--');
    return (end < 0 ? this.argv : this.argv.slice(0, end)).includes('--show-secrets');
  }

  /** Text results: secrets redacted, control characters escaped (file names and state records reach here). */
  override log(message = '', ...args: unknown[]): void {
    const text = this.showSecrets() ? message : redactText(message);
    super.log(escapeControls(text), ...args);
  }

  /** JSON results: our own printer (oclif's colouriser overflows the stack on large values), secrets redacted. */
  override logJson(json: unknown): void {
    process.stdout.write(jsonDocument(this.showSecrets() ? json : redactJson(json)));
  }

  protected override async catch(err: Error & {exitCode?: number}): Promise<void> {
    const error = toKexecError(err);
    process.exitCode = error.code;
    if (this.jsonEnabled()) {
      process.stdout.write(jsonDocument({error: redactJson(error.toJSON())}));
    } else {
      const hint = error.hint === undefined ? '' : `\n  hint: ${escapeLine(redactText(error.hint))}`;
      process.stderr.write(`kexec-ts: ${escapeLine(redactText(error.message))}${hint}\n`);
    }
    if (process.env.KEXEC_TS_DEBUG && !isKexecError(err)) process.stderr.write(`${err.stack ?? ''}\n`);
  }
}

/** Maps whatever was thrown to a KexecError with the right exit code. */
function toKexecError(err: unknown): KexecError {
  if (isKexecError(err)) return err;
  if (err instanceof Errors.CLIError || (err as {oclif?: {exit?: number}})?.oclif?.exit === 2) {
    // oclif puts what is missing on the next line ("Missing 1 required arg:\nfiles  ELF files to inspect"): keep it.
    const [first = 'invalid arguments', next] = (err as Error).message.split('\n');
    const what = first.endsWith(':') && next !== undefined && next.trim() !== '' ? ` ${next.trim().split(/\s{2,}/).join(' (')}${next.trim().includes('  ') ? ')' : ''}` : '';
    return new KexecError('usage', `${first.replace(/^Error: /, '')}${what}`, {reason: 'usage', hint: 'see --help'});
  }
  const sys = errnoFailure(err);
  if (sys !== undefined) return sys;
  const message = err instanceof Error ? err.message : String(err);
  return new KexecError('internal', `internal error: ${message}`, {
    reason: 'internal',
    hint: 'this is a bug in kexec-ts: please report it with the command line and the input files (README, "Reporting bugs"); KEXEC_TS_DEBUG=1 prints the stack',
  });
}

/** errno codes that say the path given cannot be used as it is (exit 2), and those that say the system failed (exit 5). */
const PATH_ERRNOS = new Set(['EACCES', 'EPERM', 'ENOENT', 'ENOTDIR', 'EISDIR', 'EEXIST', 'ELOOP', 'ENAMETOOLONG', 'EROFS']);
const SYSTEM_ERRNOS = new Set(['ENOSPC', 'EDQUOT', 'EIO', 'EMFILE', 'ENFILE']);

/**
 * A file-system error no layer turned into a KexecError (a permission problem on a directory the user named, say)
 * is an ordinary condition, not a bug: one line with the path and the errno, exit 2 or 5.
 */
function errnoFailure(err: unknown): KexecError | undefined {
  const e = err as {code?: unknown; path?: unknown; syscall?: unknown};
  if (typeof e?.code !== 'string' || typeof e.path !== 'string') return undefined;
  const what = typeof e.syscall === 'string' ? `${e.syscall} failed` : 'failed';
  if (PATH_ERRNOS.has(e.code)) {
    return new KexecError('usage', `${e.path}: ${what} (${e.code})`, {reason: e.code, hint: 'check the path, its owner and permissions'});
  }
  if (SYSTEM_ERRNOS.has(e.code)) return new KexecError('backend', `${e.path}: ${what} (${e.code})`, {reason: e.code});
  return undefined;
}
