/**
 * The README's example sessions are real runs: every ```console block whose commands all start with `./bin/run.js`
 * or `export` is run again, in order, in one bash from the project root, and each command's output (stdout and
 * stderr, without the progress lines) must match what the README shows. In the README, a line ending in "..."
 * stands for the rest of that line and any lines after it up to the next shown line, and "…" inside a line for
 * any text (a temp path, the rest of a digest). Blocks with other commands (a FreeBSD host's `#` prompt, `kexec-ts`
 * on a host) are documentation of another machine and are not run.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {CLI_BUILT, PROJECT_ROOT} from '../helpers/corpus.js';
import {tempDir} from '../helpers/lifecycle-cli.js';

interface Step {
  readonly command: string;
  readonly expected: string[];
}

/** The runnable console blocks: commands (continuation lines joined) and the lines shown after each. */
function consoleSessions(markdown: string): Step[][] {
  const sessions: Step[][] = [];
  for (const m of markdown.matchAll(/^```console\n([\s\S]*?)^```$/gm)) {
    const lines = (m[1] ?? '').replace(/\n$/, '').split('\n');
    const steps: Step[] = [];
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i] ?? '';
      if (line.startsWith('$ ')) {
        let command = line.slice(2);
        while (command.endsWith('\\') && i + 1 < lines.length) command = `${command.slice(0, -1)} ${(lines[++i] ?? '').trim()}`;
        steps.push({command, expected: []});
      } else {
        steps.at(-1)?.expected.push(line);
      }
    }
    if (steps.length > 0 && steps.every((s) => /^(\.\/bin\/run\.js |export )/.test(s.command))) sessions.push(steps);
  }
  return sessions;
}

function lineMatches(pattern: string, actual: string): boolean {
  const re = pattern.replace(/\.\.\.$/, '…').split('…').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${re}$`).test(actual);
}

/** Expected lines against actual ones, with "..." (rest of line and following lines) and "…" (any text). */
function matches(expected: readonly string[], actual: readonly string[]): string | undefined {
  let a = 0;
  for (let e = 0; e < expected.length; e++) {
    const pattern = expected[e] ?? '';
    if (a >= actual.length || !lineMatches(pattern, actual[a] ?? '')) return `README line "${pattern}" != actual "${actual[a] ?? '(no more output)'}"`;
    a++;
    if (pattern.endsWith('...')) {
      const next = expected[e + 1];
      while (a < actual.length && (next === undefined || !lineMatches(next, actual[a] ?? ''))) a++;
    }
  }
  return a === actual.length ? undefined : `output has more lines than the README shows, from "${actual[a] ?? ''}"`;
}

const PROGRESS = /^[❯✔✖↓◼⚠] /;

test('the README\'s console sessions are what the commands print', {skip: CLI_BUILT ? false : 'dist/ is not built (npm run build)'}, (t) => {
  // The sessions' `mktemp -d` state directories go here, removed when the test ends.
  const scratch = tempDir(t, 'kexec-readme-');
  const sessions = consoleSessions(readFileSync(join(PROJECT_ROOT, 'README.md'), 'utf8'));
  assert.ok(sessions.length >= 1, 'at least the simulated-machine session is runnable');
  for (const steps of sessions) {
    const marker = (n: number): string => `@@kexec-ts-readme-step ${n}@@`;
    const script = steps.map((s, n) => `echo '${marker(n)}'\n{ ${s.command}\n} 2>&1`).join('\n');
    const r = spawnSync('bash', ['-c', script], {cwd: PROJECT_ROOT, encoding: 'utf8', env: {...process.env, NO_COLOR: '1', CI: 'true', KEXEC_TS_CONFIG: undefined, TMPDIR: scratch}});
    const outputs = r.stdout.split(/^@@kexec-ts-readme-step \d+@@\n/m).slice(1);
    steps.forEach((s, n) => {
      const actual = (outputs[n] ?? '').replace(/\n$/, '').split('\n').filter((l) => l !== '' && !PROGRESS.test(l));
      const problem = matches(s.expected, actual);
      assert.equal(problem, undefined, `$ ${s.command}\n${problem ?? ''}\nactual output:\n${actual.join('\n')}`);
    });
  }
});
