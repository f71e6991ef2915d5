/**
 * The one place where errors become exit codes. Every command extends BaseCommand: it parses, calls the
 * pipeline and returns its result; a KexecError becomes one line on stderr (or `{"error": …}` on stdout with
 * --json) and its documented exit code; oclif's flag and argument errors become exit 2; anything else is a bug
 * (exit 1) reported in one line, with the stack only when KEXEC_TS_DEBUG is set.
 */
import {Command, Errors} from '@oclif/core';
import {KexecError, isKexecError} from '../errors.js';

export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true;

  protected override async catch(err: Error & {exitCode?: number}): Promise<void> {
    const error = toKexecError(err);
    process.exitCode = error.code;
    if (this.jsonEnabled()) {
      process.stdout.write(`${JSON.stringify({error: error.toJSON()}, null, 2)}\n`);
    } else {
      const hint = error.hint === undefined ? '' : `\n  hint: ${error.hint}`;
      process.stderr.write(`kexec-ts: ${error.message}${hint}\n`);
    }
    if (process.env.KEXEC_TS_DEBUG && !isKexecError(err)) process.stderr.write(`${err.stack ?? ''}\n`);
  }
}

/** Maps whatever was thrown to a KexecError with the right exit code. */
function toKexecError(err: unknown): KexecError {
  if (isKexecError(err)) return err;
  if (err instanceof Errors.CLIError || (err as {oclif?: {exit?: number}})?.oclif?.exit === 2) {
    const message = (err as Error).message.split('\n')[0] ?? 'invalid arguments';
    return new KexecError('usage', message.replace(/^Error: /, ''), {reason: 'usage', hint: 'see --help'});
  }
  const message = err instanceof Error ? err.message : String(err);
  return new KexecError('internal', `internal error: ${message}`, {
    reason: 'internal',
    hint: 'this is a bug in kexec-ts: please report it with the command line and the input files (README, "Reporting bugs"); KEXEC_TS_DEBUG=1 prints the stack',
  });
}

