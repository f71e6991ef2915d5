/**
 * What only a terminal shows, through a real pseudo-terminal (util-linux script(1)): `load` on a terminal that
 * reports 0 columns (a serial console) prints one plain line per step, not one character per line; on 80 columns
 * a hostile file name is shown escaped; `--quiet`
 * prints no progress at all; and `exec`'s question names the kernel and the modules it will boot (answered "n":
 * exit 2, nothing booted).
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import {copyFileSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {CLI_BIN, PROJECT_ROOT} from '../helpers/corpus.js';
import {CLI_SKIP, tempDir} from '../helpers/lifecycle-cli.js';

const SCRIPT_SKIP = spawnSync('script', ['--version'], {stdio: 'ignore'}).status === 0 ? false : 'script(1) from util-linux is not installed';
const K = join(PROJECT_ROOT, 'examples/probe-kernel/build/amd64');

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Runs `node bin/run.js ARGS` on a pty of `cols` columns, feeding `input`; returns the terminal's text. */
function onPty(args: readonly string[], cols: number, input = ''): Promise<{code: number | null; out: string}> {
  const cmd = `stty cols ${cols} rows 24; exec ${quote(process.execPath)} ${quote(CLI_BIN)} ${args.map(quote).join(' ')}`;
  const env: NodeJS.ProcessEnv = {...process.env, NO_COLOR: '1', TERM: 'vt100'};
  for (const k of ['CI', 'KEXEC_TS_CONFIG', 'KEXEC_TS_DEBUG', 'FORCE_COLOR']) delete env[k];
  return new Promise((resolve) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], {env, stdio: ['pipe', 'pipe', 'pipe']});
    let out = '';
    // The answer is typed once the question is on the terminal (a pty drops nothing, but a prompt read later would
    // echo late): seen in the output, not guessed with a delay.
    let typed = input === '';
    if (typed) child.stdin.end();
    const take = (d: string): void => {
      out += d;
      if (!typed && /\[y\/N\] /.test(out)) {
        typed = true;
        child.stdin.end(input);
      }
    };
    child.stdout.setEncoding('utf8').on('data', take);
    child.stderr.setEncoding('utf8').on('data', take);
    child.on('close', (code) => resolve({code, out: out.replace(/\r/g, '')}));
  });
}

const STEPS = [/Using the backend sim \(flag\) on amd64$/, /Read .*kernel \(\d+\.\d KiB, ELF64\)$/, /Planned 3 file\(s\) into 2\/16 segments/, /Digest [0-9a-f]{16}/, /Staged on the sim backend \(2 segments/];

describe('on a terminal', {skip: CLI_SKIP || SCRIPT_SKIP}, () => {
  test('load on a 0-column terminal: one line per step, no line of one character', async (t) => {
    const state = tempDir(t, 'kexec-pty-');
    const r = await onPty(['load', '--backend', 'sim', '--state-dir', state, '--profile', 'amd64-4g', '--module-path', K, join(K, 'kernel'), 'probe_hello'], 0);
    assert.equal(r.code, 0, r.out);
    const lines = r.out.split('\n').filter((l) => l.trim() !== '');
    for (const step of STEPS) assert.equal(lines.filter((l) => step.test(l)).length, 1, `one line for ${step}:\n${r.out}`);
    assert.deepEqual(lines.filter((l) => l.trim().length <= 2), [], 'no character-per-line output');
    assert.ok(lines.some((l) => /^staged .*kernel on the sim backend$/.test(l)));
  });

  test('load on an 80-column terminal (redrawn in place) shows a hostile file name escaped', async (t) => {
    const dir = tempDir(t, 'kexec-pty-');
    const hostile = join(dir, 'k\x1b]0;owned\x07\x1b[2J');
    copyFileSync(join(K, 'kernel'), hostile);
    const r = await onPty(['load', '--backend', 'sim', '--state-dir', join(dir, 'state'), '--profile', 'amd64-4g', hostile], 80);
    assert.equal(r.code, 0, r.out);
    assert.ok(!r.out.includes('\x07') && !r.out.includes('\x1b]0;') && !r.out.includes('\x1b[2J'), 'no title, bell or clear-screen sequence from the name');
    assert.match(r.out, /Read .*k\\x1b\]0;owned\\x07\\x1b\[2J/);
    writeFileSync(hostile, 'not an ELF file');
    const bad = await onPty(['load', '--backend', 'sim', '--state-dir', join(dir, 'state'), '--profile', 'amd64-4g', hostile], 80);
    assert.equal(bad.code, 3, bad.out);
    assert.ok(!bad.out.includes('\x07') && !bad.out.includes('\x1b]0;') && !bad.out.includes('\x1b[2J'), bad.out);
    assert.match(bad.out, /kexec-ts: .*k\\x1b\]0;owned\\x07\\x1b\[2J: not an ELF file/);
  });

  test('load --quiet prints the result and no progress', async (t) => {
    const state = tempDir(t, 'kexec-pty-');
    const r = await onPty(['load', '--quiet', '--backend', 'sim', '--state-dir', state, '--profile', 'amd64-4g', '--module-path', K, join(K, 'kernel'), 'probe_hello'], 0);
    assert.equal(r.code, 0, r.out);
    for (const step of STEPS) assert.ok(!r.out.split('\n').some((l) => step.test(l)), `no ${step}`);
    assert.match(r.out, /^staged .*kernel on the sim backend$/m);
  });

  test('exec asks on a terminal, naming the kernel and modules; "n" cancels with exit 2', async (t) => {
    const state = tempDir(t, 'kexec-pty-');
    const load = await onPty(['load', '-q', '--backend', 'sim', '--state-dir', state, '--profile', 'amd64-4g', '--module-path', K, join(K, 'kernel'), 'probe_hello'], 80);
    assert.equal(load.code, 0, load.out);
    const r = await onPty(['exec', '--backend', 'sim', '--state-dir', state], 80, 'n\n');
    assert.equal(r.code, 2, r.out);
    assert.match(r.out, new RegExp(`Boot the simulated machine into ${K}/kernel with ${K}/probe_hello\\.ko, ${K}/probe_dep\\.ko\\? \\[y/N\\]`));
    assert.match(r.out, /kexec-ts: exec cancelled/);
    const status = await onPty(['status', '--backend', 'sim', '--state-dir', state, '--check'], 80);
    assert.equal(status.code, 0, 'still staged: nothing was booted');
  });
});
