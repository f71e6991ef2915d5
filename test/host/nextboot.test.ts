/**
 * nextboot.conf disarmed after use, as stand/lua/config.lua checkNextboot() does: the first 21 bytes become
 * `nextboot_enable="NO" `, the rest of the file is untouched, and the loader chain then ignores it.
 */
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {disarmNextboot} from '../../src/host/nextboot.js';
import {readLoaderConfig} from '../../src/image/freebsd/loader-config.js';
import {RootFs} from '../../src/io/root-fs.js';

const dir = mkdtempSync(join(tmpdir(), 'kexec-nextboot-'));
after(() => rmSync(dir, {recursive: true, force: true}));

test('an armed file is disarmed in place; the loader chain then ignores it', async () => {
  const root = join(dir, 'root');
  mkdirSync(join(root, 'boot/defaults'), {recursive: true});
  writeFileSync(join(root, 'boot/defaults/loader.conf'), 'nextboot_conf="/boot/nextboot.conf"\n');
  const file = join(root, 'boot/nextboot.conf');
  writeFileSync(file, 'nextboot_enable="YES"\nkernel="kernel.old"\n');
  assert.equal((await readLoaderConfig(new RootFs(root), () => undefined)).env.get('kernel')?.value, 'kernel.old');
  assert.equal(await disarmNextboot(file), true);
  assert.equal(readFileSync(file, 'latin1'), 'nextboot_enable="NO" \nkernel="kernel.old"\n');
  assert.equal((await readLoaderConfig(new RootFs(root), () => undefined)).env.get('kernel'), undefined, 'not used again');
  assert.equal(await disarmNextboot(file), false, 'a disarmed file is left alone');
});

test('a missing file or one not armed is left alone; a symlink is not followed', async () => {
  assert.equal(await disarmNextboot(join(dir, 'none.conf')), false);
  const other = join(dir, 'other.conf');
  writeFileSync(other, 'kernel="x"\n');
  assert.equal(await disarmNextboot(other), false);
  assert.equal(readFileSync(other, 'latin1'), 'kernel="x"\n');
  const target = join(dir, 'target.conf');
  writeFileSync(target, 'nextboot_enable="YES"\n');
  symlinkSync(target, join(dir, 'link.conf'));
  await assert.rejects(disarmNextboot(join(dir, 'link.conf')), /cannot be opened to disable it after use \(ELOOP\)/);
  assert.equal(readFileSync(target, 'latin1'), 'nextboot_enable="YES"\n');
});
