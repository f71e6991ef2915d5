/**
 * oclif's `command_not_found` hook (package.json oclif.hooks): an unknown command is a usage error, exit 2, in the
 * shape of every other error (one line and a hint on stderr, or `{"error": …}` on stdout with --json), with the
 * closest command names as "did you mean". Without it oclif prints its own "command … not found" and no hint.
 */
import type {Hook} from '@oclif/core';
import {KexecError} from '../errors.js';

/** Levenshtein distance, for suggestions. */
function distance(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The exit-2 error for `word`, suggesting the commands within a third of its length (at least 2 edits). */
export function unknownCommand(word: string, ids: readonly string[]): KexecError {
  const names = ids.map((id) => id.split(':').join(' '));
  const limit = Math.max(2, Math.floor(word.length / 3));
  const close = names.map((n) => ({n, d: distance(word, n)})).filter((c) => c.d <= limit).sort((x, y) => x.d - y.d).map((c) => c.n);
  return new KexecError('usage', `unknown command "${word}"`, {
    reason: 'unknown-command',
    hint: `${close.length > 0 ? `did you mean ${close.slice(0, 3).map((c) => `"${c}"`).join(' or ')}? ` : ''}kexec-ts --help lists the commands`,
    details: {suggestions: close.slice(0, 3)},
  });
}

const hook: Hook<'command_not_found'> = async function (opts) {
  const error = unknownCommand(opts.id.split(':').join(' '), opts.config.commands.filter((c) => c.hidden !== true).map((c) => c.id));
  if ((opts.argv ?? []).includes('--json')) process.stdout.write(`${JSON.stringify({error: error.toJSON()}, null, 2)}\n`);
  else process.stderr.write(`kexec-ts: ${error.message}\n  hint: ${error.hint ?? ''}\n`);
  this.exit(error.code);
};

export default hook;
