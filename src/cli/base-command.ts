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
    const message = (err as Error).message.split('\n')[0] ?? 'invalid arguments';
    return new KexecError('usage', message.replace(/^Error: /, ''), {reason: 'usage', hint: 'see --help'});
  }
  const message = err instanceof Error ? err.message : String(err);
  return new KexecError('internal', `internal error: ${message}`, {
    reason: 'internal',
    hint: 'this is a bug in kexec-ts: please report it with the command line and the input files (README, "Reporting bugs"); KEXEC_TS_DEBUG=1 prints the stack',
  });
}

