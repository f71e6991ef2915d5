/**
 * Kernel arguments and --howto as sys/kern/subr_boot.c boot_parse_arg parses them (issue 11, bug 4): in a dash
 * word each letter is a flag, unknown letters are ignored, and 'S' takes the rest of the word as comconsole_speed
 * and ends it, wherever it stands ("-sS115200" is RB_SINGLE plus speed 115200); 'P' is RB_PROBE (0x10000000,
 * sys/sys/reboot.h), which has no boot_* name in howto_names[] and so reaches the kernel only in
 * MODINFOMD_HOWTO. kernel_options longer than the loader's parse() keeps (stand/common/interp_parse.c: MAXARGS 20
 * words per command, including `load` and the kernel path; PARSE_BUFSIZE 1024 bytes per word) are refused.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {checkKernelArgs, parseBootArgs, parseHowtoFlag} from '../../src/image/freebsd/boot-env.js';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';

const RB_SINGLE = 0x2;
const RB_VERBOSE = 0x800;
const RB_SERIAL = 0x1000;
const RB_PROBE = 0x10000000;
const K = fileURLToPath(new URL('../../examples/probe-kernel/build/amd64/', import.meta.url));

test('boot_parse_arg: -S takes the rest of the word, anywhere in it; unknown letters are ignored; -P is RB_PROBE', () => {
  assert.deepEqual(parseBootArgs('-sS115200'), {howto: RB_SINGLE, env: [['comconsole_speed', '115200']], ignored: []});
  assert.deepEqual(parseBootArgs('-S9600v').env, [['comconsole_speed', '9600v']], 'the v after S is part of the speed, not a flag');
  assert.equal(parseBootArgs('-S9600v').howto, 0);
  assert.deepEqual(parseBootArgs('-S').env, [['comconsole_speed', '']]);
  assert.deepEqual(parseBootArgs('-P -h'), {howto: RB_PROBE | RB_SERIAL, env: [], ignored: []});
  assert.deepEqual(parseBootArgs('-vq'), {howto: RB_VERBOSE, env: [], ignored: ['q']});
  assert.deepEqual(parseBootArgs('a=b c d=e=f').env, [['a', 'b'], ['c', '1'], ['d', 'e=f']]);
});

test('--howto accepts -S<speed> inside a word and refuses unknown flags', () => {
  assert.deepEqual(parseHowtoFlag('-sS115200').env, [['comconsole_speed', '115200']]);
  assert.throws(() => parseHowtoFlag('-s -q'), /unknown flag "-q"/);
  assert.throws(() => parseHowtoFlag('x=1'), /unknown flag "x=1"/);
});

test('kernel_options past the loader\'s parse() limits are refused', () => {
  checkKernelArgs(Array.from({length: 18}, (_, i) => `v${i}=1`).join(' '), 'kernel_options');
  assert.throws(() => checkKernelArgs(Array.from({length: 19}, (_, i) => `v${i}=1`).join(' '), 'kernel_options'), /19 words; the loader's parse\(\) takes at most 20/);
  assert.throws(() => checkKernelArgs(`x=${'a'.repeat(1022)}`, 'kernel_options'), /1024 bytes; the loader's parse\(\) keeps at most 1023/);
});

test('through the CLI: --howto -sS115200 and --kernel-options "-P -sS38400" reach howto and the environment', {skip: IN_PROCESS_SKIP}, async () => {
  const plan = async (...extra: string[]): Promise<{howto: string; env: Record<string, string>}> => {
    const r = await cli(['plan', '--profile', 'amd64-4g', '--module-path', K, '--json', ...extra, join(K, 'kernel')]);
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as {handoff: {howto: string; env: Record<string, string>}}).handoff;
  };
  const a = await plan('--howto', '-sS115200');
  assert.equal(Number(a.howto), RB_SINGLE);
  assert.equal(a.env.comconsole_speed, '115200');
  assert.equal(a.env.boot_single, 'YES');
  const b = await plan('--kernel-options', '-P -sS38400');
  assert.equal(Number(b.howto), RB_PROBE | RB_SINGLE);
  assert.equal(b.env.comconsole_speed, '38400');
  assert.equal(Object.keys(b.env).some((k) => /probe/i.test(k)), false, 'RB_PROBE has no boot_* variable');
  const long = await cli(['plan', '--profile', 'amd64-4g', '--module-path', K, '--kernel-options', Array.from({length: 19}, (_, i) => `v${i}=1`).join(' '), join(K, 'kernel')]);
  assert.equal(long.code, 2);
  assert.match(long.stderr, /^kexec-ts: --kernel-options: 19 words/);
});
