/**
 * The ordinary ways of asking for help and of mistyping a command: `-h`, `help COMMAND`, `version`/`-v` work;
 * an unknown command is exit 2 with "did you mean" (stderr, or the JSON error shape under --json), never oclif's
 * bare "command not found".
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {IN_PROCESS_SKIP, cli} from '../helpers/cli.js';

describe('help, version and unknown commands', {skip: IN_PROCESS_SKIP}, () => {
  test('-h and help COMMAND print the command\'s help; help with no command lists them all', async () => {
    const viaFlag = await cli(['exec', '-h']);
    assert.equal(viaFlag.code, 0, viaFlag.stderr);
    assert.match(viaFlag.stdout, /--dry-run/);
    const viaCommand = await cli(['help', 'exec']);
    assert.equal(viaCommand.code, 0, viaCommand.stderr);
    assert.equal(viaCommand.stdout, viaFlag.stdout, 'help exec is exec -h');
    const all = await cli(['-h']);
    assert.equal(all.code, 0);
    for (const c of ['inspect', 'plan', 'load', 'exec', 'unload', 'status', 'init']) assert.match(all.stdout, new RegExp(`^\\s+${c}\\s`, 'm'));
  });

  test('version and -v print the version line', async () => {
    for (const v of ['version', '-v', '--version']) {
      const r = await cli([v]);
      assert.equal(r.code, 0, `${v}: ${r.stderr}`);
      assert.match(r.stdout, /^kexec-ts\/\d+\.\d+\.\d+ /, v);
    }
  });

  test('an unknown command: exit 2, one line, did you mean; --json gives the error shape', async () => {
    const r = await cli(['stauts']);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stderr, 'kexec-ts: unknown command "stauts"\n  hint: did you mean "status"? kexec-ts --help lists the commands\n');
    const json = await cli(['lod', '--json']);
    assert.equal(json.code, 2);
    const err = (JSON.parse(json.stdout) as {error: {code: number; reason: string; details: {suggestions: string[]}}}).error;
    assert.deepEqual([err.code, err.reason, err.details.suggestions[0]], [2, 'unknown-command', 'load']);
    const help = await cli(['help', 'exce']);
    assert.equal(help.code, 2);
    assert.match(help.stderr, /^kexec-ts: unknown command "exce"\n {2}hint: did you mean "exec"\?/);
    const nothing = await cli(['zzzzzzzz']);
    assert.equal(nothing.code, 2);
    assert.match(nothing.stderr, /hint: kexec-ts --help lists the commands/);
  });

  test('an unknown flag is exit 2 with the error shape under --json', async () => {
    const r = await cli(['status', '--bogus', '--json']);
    assert.equal(r.code, 2);
    assert.equal((JSON.parse(r.stdout) as {error: {code: number}}).error.code, 2);
  });
});
