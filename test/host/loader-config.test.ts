/**
 * Issue 9, Must-show 2: the loader configuration chain read from a root file system, each case against the rule of
 * stand/lua/config.lua (config.load, readConf, checkNextboot, parse and pattern_table) or stand/defaults/loader.conf
 * that it follows. Roots are temp directories read through RootFs, as a host snapshot's root/ or `--root DIR` is.
 */
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {readLoaderConfig} from '../../src/image/freebsd/loader-config.js';
import {parseLoaderConfText} from '../../src/image/freebsd/loader-conf.js';
import {RootFs} from '../../src/io/root-fs.js';

const base = mkdtempSync(join(tmpdir(), 'kexec-loaderconf-'));
after(() => rmSync(base, {recursive: true, force: true}));
let n = 0;

/** A root holding `files` (path inside the root -> content). */
function root(files: Record<string, string>): RootFs {
  const dir = join(base, `root-${n++}`);
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), {recursive: true});
    writeFileSync(join(dir, p), text);
  }
  mkdirSync(dir, {recursive: true});
  return new RootFs(dir);
}

// The lines of stand/defaults/loader.conf that drive the chain.
const DEFAULTS = 'loader_conf_files="/boot/device.hints /boot/loader.conf"\nloader_conf_dirs="/boot/loader.conf.d"\n' +
  'local_loader_conf_files="/boot/loader.conf.local"\nnextboot_conf="/boot/nextboot.conf"\nzfs_load="NO"\n';
const none = (): undefined => undefined;
const value = (c: Awaited<ReturnType<typeof readLoaderConfig>>, name: string): string | undefined => c.env.get(name)?.value;

test('defaults first, then loader_conf_files in order, then loader.conf.d/*.conf, then loader.conf.local (config.lua config.load)', async () => {
  const fs = root({
    '/boot/defaults/loader.conf': DEFAULTS + 'order="defaults"\n',
    '/boot/device.hints': 'hint.uart.0.at="isa"\norder="hints"\n',
    '/boot/loader.conf': 'order="loader.conf"\nzfs_load="YES"\n',
    '/boot/loader.conf.d/b.conf': 'order="d/b"\n',
    '/boot/loader.conf.d/a.conf': 'order="d/a"\nfrom_a="1"\n',
    '/boot/loader.conf.d/skipped.txt': 'order="not a .conf file"\n',
    '/boot/loader.conf.local': 'order="local"\n',
  });
  const c = await readLoaderConfig(fs, none);
  const d = (p: string): string => fs.describe(p);
  assert.deepEqual(c.files, [d('/boot/defaults/loader.conf'), d('/boot/device.hints'), d('/boot/loader.conf'), d('/boot/loader.conf.d/a.conf'), d('/boot/loader.conf.d/b.conf'), d('/boot/loader.conf.local')]);
  assert.equal(value(c, 'order'), 'local', 'a later file overrides an earlier one (setEnv replaces)');
  assert.equal(value(c, 'from_a'), '1');
  assert.equal(value(c, 'zfs_load'), 'YES', 'loader.conf overrides the defaults');
  assert.equal(value(c, 'hint.uart.0.at'), 'isa', 'device.hints is a loader_conf_files entry of the defaults');
  assert.ok(!c.env.has('loader_conf_files'), 'loader_conf_files is restricted (loader_env_restricted_table)');
  assert.equal(c.modules.get('zfs')?.fields.load?.value, 'YES');
});

test('loader_conf_files set inside a file chains to more files, each read once; a missing one is skipped (readConf)', async () => {
  const fs = root({
    '/boot/defaults/loader.conf': DEFAULTS,
    '/boot/loader.conf': 'loader_conf_files="/boot/extra.conf /boot/missing.conf /boot/loader.conf"\nx="1"\n',
    '/boot/extra.conf': 'x="2"\ny="extra"\n',
  });
  const c = await readLoaderConfig(fs, none);
  assert.deepEqual(c.files.map((f) => f.slice(fs.dir.length)), ['/boot/defaults/loader.conf', '/boot/loader.conf', '/boot/extra.conf']);
  assert.deepEqual([value(c, 'x'), value(c, 'y')], ['2', 'extra']);
});

test('X_load is upper-cased; _name, _type, _flags are kept as written; module keys are also variables (config.lua parse)', async () => {
  const fs = root({
    '/boot/defaults/loader.conf': DEFAULTS,
    '/boot/loader.conf': 'mdroot_load="yes"\nmdroot_type="md_image"\nmdroot_name="/boot/root.img"\nif_em_flags="-v 2"\nmy.mod_load=YES\n',
  });
  const c = await readLoaderConfig(fs, none);
  const md = c.modules.get('mdroot');
  assert.deepEqual([md?.fields.load?.value, md?.fields.type?.value, md?.fields.name?.value], ['YES', 'md_image', '/boot/root.img']);
  assert.equal(c.modules.get('if_em')?.fields.flags?.value, '-v 2');
  assert.equal(c.modules.get('my.mod')?.fields.load?.value, 'YES', 'a bare word value and a dotted module name ([%w%d-_.]+)');
  assert.equal(value(c, 'mdroot_type'), 'md_image');
  assert.ok(c.modules.get('mdroot')?.fields.load?.source.endsWith('/boot/loader.conf:1'), 'each value says FILE:LINE');
});

test('values: "..." or one word; $name and ${name} expand, \\ escapes; single quotes and trailing text are malformed (parse, processEnvVar)', async () => {
  const fs = root({
    '/boot/defaults/loader.conf': DEFAULTS,
    '/boot/loader.conf': 'a="one two"\nb=word\nc="${a}-$b"\nd="x\\\\y"\ne=\'quoted\'\nf="1" trailing\ng="2"   # comment is fine\n',
  });
  const c = await readLoaderConfig(fs, (name) => (name === 'currdev' ? 'disk0p2:' : undefined));
  assert.deepEqual([value(c, 'a'), value(c, 'b'), value(c, 'c'), value(c, 'd'), value(c, 'g')], ['one two', 'word', 'one two-word', 'x\\y', '2']);
  assert.ok(!c.env.has('e') && !c.env.has('f'));
  assert.equal(c.notes.filter((x) => x.includes('malformed line skipped')).length, 2);
  const lines = parseLoaderConfText('h="${currdev}"\n');
  assert.deepEqual(lines, [{kind: 'env', line: 1, name: 'h', value: '${currdev}'}], 'expansion happens when the line is applied, with the loader\'s own variables');
});

test('nextboot.conf: used once when enabled, the loader then disables it; ignored when its first line says NO (checkNextboot)', async () => {
  const on = root({'/boot/defaults/loader.conf': DEFAULTS, '/boot/loader.conf': 'kernel="kernel"\n', '/boot/nextboot.conf': 'nextboot_enable="YES"\nkernel="kernel.old"\n'});
  const c = await readLoaderConfig(on, none);
  assert.equal(value(c, 'kernel'), 'kernel.old', 'nextboot.conf is read after everything else and wins');
  assert.equal(c.nextboot, '/boot/nextboot.conf');
  assert.equal(value(c, 'nextboot_enable'), 'NO');
  const off = root({'/boot/defaults/loader.conf': DEFAULTS, '/boot/nextboot.conf': 'nextboot_enable="NO"\nkernel="kernel.old"\n'});
  const c2 = await readLoaderConfig(off, none);
  assert.equal(value(c2, 'kernel'), undefined);
  assert.equal(c2.nextboot, undefined);
});

test('loader.conf.d files that disagree are named, since the loader reads the directory in its own order', async () => {
  const fs = root({'/boot/defaults/loader.conf': DEFAULTS, '/boot/loader.conf.d/one.conf': 'z="1"\n', '/boot/loader.conf.d/two.conf': 'z="2"\n'});
  const c = await readLoaderConfig(fs, none);
  assert.equal(value(c, 'z'), '2');
  assert.ok(c.notes.some((x) => x.includes('z="2" also set to "1"')), c.notes.join(' | '));
});

test('without /boot/defaults/loader.conf nothing is chained: the loader would read no loader.conf either', async () => {
  const c = await readLoaderConfig(root({'/boot/loader.conf': 'x="1"\n'}), none);
  assert.deepEqual([c.files, value(c, 'x')], [[], undefined]);
});
