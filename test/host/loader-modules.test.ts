/**
 * What loader.conf's module keys load, planned against a root file system (--root DIR), as stand/lua/config.lua
 * loadModule() builds each `load` command: `load [-t TYPE] NAME-or-X_name [X_flags]` for every X_load="YES" (in
 * upper case after parse), module_blacklist honoured, and a failure dropping only that module.
 */
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {planToJSON} from '../../src/plan/codec.js';
import {buildFreeBsdKernel} from '../fixtures/freebsd-kernel.js';
import {buildFreeBsdModule} from '../fixtures/freebsd-module.js';

const root = mkdtempSync(join(tmpdir(), 'kexec-loader-modules-'));
after(() => rmSync(root, {recursive: true, force: true}));
const put = (p: string, data: string | Uint8Array): void => {
  mkdirSync(dirname(join(root, p)), {recursive: true});
  writeFileSync(join(root, p), data);
};
put('/boot/kernel/kernel', buildFreeBsdKernel({arch: 'amd64', version: 1500000}));
put('/boot/kernel/realname.ko', buildFreeBsdModule({name: 'realname', version: 1}));
put('/boot/kernel/plain.ko', buildFreeBsdModule({name: 'plain', version: 1}));
put('/boot/kernel/banned.ko', buildFreeBsdModule({name: 'banned', version: 1}));
put('/boot/root.img', new Uint8Array(0x3000).fill(0xa5));
put('/boot/defaults/loader.conf', 'loader_conf_files="/boot/loader.conf"\nmdroot_type="md_image"\nmdroot_name="/boot/root.img"\n');
put('/boot/loader.conf', [
  'alias_load="YES"', 'alias_name="realname"', 'alias_flags="-v level=2"',
  'mdroot_load="YES"',
  'plain_load="yes"',
  'banned_load="YES"', 'module_blacklist="banned"',
  'missing_load="YES"',
  'off_load="NO"', '',
].join('\n'));

test('X_name, X_type, X_flags, lower-case yes, module_blacklist and a missing module, as config.lua loads them', async () => {
  const {plan} = await planFiles({root, modules: [], env: [{name: 'vfs.root.mountfrom', value: 'ufs:/dev/ada0p2', source: '--env'}]});
  const h = planToJSON(plan).handoff as unknown as {files: {name: string; type: string; size: string; args?: string}[]};
  // config.lua walks its module table with pairs(), in no defined order; kexec-ts loads in order of first mention
  // (mdroot is first named by the defaults file, which is read first).
  assert.deepEqual(h.files.map((f) => [f.name, f.type, f.args ?? null]), [
    ['/boot/kernel/kernel', 'elf kernel', null],
    ['/boot/root.img', 'md_image', null],
    ['/boot/kernel/realname.ko', 'elf obj module', '-v level=2'],
    ['/boot/kernel/plain.ko', 'elf obj module', null],
  ]);
  assert.equal(h.files[1]?.size, '0x3000', 'the raw file as it is');
  assert.ok(plan.notes.some((n) => n.includes("not loading blacklisted module 'banned' (module_blacklist)")), plan.notes.join(' | '));
  assert.ok(plan.notes.some((n) => /loader\.conf:8: loading missing failed, so the loader would boot without it: missing: module not found/.test(n)), plan.notes.join(' | '));
});
