/**
 * Module names never lead outside the module path (issue 13 item 9): an MDT_DEPEND name or a linker.hints file
 * name with "/" or ".." is refused (stricter than stand/common/module.c, which would join it to the directory and
 * follow it), and a linker.hints record whose length is not padded to 4 bytes (kldxref.c record_end always pads)
 * is an error, not a silent misparse of every record after it.
 */
import {after, test} from 'node:test';
import assert from 'node:assert/strict';
import {join} from 'node:path';
import {parseLinkerHints} from '../../src/image/freebsd/linker-hints.js';
import {ModuleTree, dep, planFails} from '../helpers/freebsd-deps-fixtures.js';
import {hintModule, hintVersion, writeLinkerHints} from '../helpers/linker-hints-writer.js';

const tree = new ModuleTree();
after(() => tree.remove());

test('an MDT_DEPEND name with "../" is refused before any file outside the module path is looked at', async () => {
  const kernel = tree.kernel();
  const dir = tree.dir('mods-depend');
  tree.module('mods-depend', {name: 'evil', version: 1, depends: [dep('../outside/secret', 1, 1, 1)]});
  tree.module('outside', {name: 'secret', version: 1}, 'secret.ko');
  const e = await planFails({image: kernel, modules: ['evil'], modulePath: dir});
  assert.equal(e.code, 3);
  assert.equal(e.reason, 'module-name-unsafe');
  assert.match(e.message, /module name "\.\.\/outside\/secret" contains "\/" or "\.\.": .*stricter than the loader/);
});

test('a linker.hints file name with "/" or "..": the hints file is refused, naming the offset and the name', async () => {
  for (const kldfile of ['../outside/secret.ko', 'sub/x.ko', '..']) {
    const bytes = writeLinkerHints([hintVersion('good', 1, 'good.ko'), hintVersion('evil', 1, kldfile)]);
    assert.throws(() => parseLinkerHints(bytes, 'linker.hints'), (e: Error & {code?: number; reason?: string}) =>
      e.code === 3 && e.reason === 'linker-hints-malformed' && e.message.includes(`file name ${JSON.stringify(kldfile)} contains`));
  }
  const kernel = tree.kernel();
  const dir = tree.dir('mods-hints');
  tree.hints('mods-hints', [hintModule('evil', '../outside/secret.ko')]);
  tree.module('outside', {name: 'secret', version: 1}, 'secret.ko');
  const e = await planFails({image: kernel, modules: ['evil'], modulePath: join(dir)});
  assert.equal(e.reason, 'linker-hints-malformed');
});

test('a record length that is not a multiple of 4 is an error', () => {
  const good = writeLinkerHints([hintModule('a', 'a.ko'), hintModule('b', 'b.ko')]);
  assert.equal(parseLinkerHints(good, 'h').length, 2);
  // Drop the first record's padding: its length is no longer a multiple of 4 and the next record starts early.
  const dv = new DataView(good.buffer, good.byteOffset, good.byteLength);
  const reclen = dv.getInt32(4, true);
  const unpadded = new Uint8Array(good.length - 1);
  unpadded.set(good.subarray(0, 8 + reclen - 1));
  unpadded.set(good.subarray(8 + reclen), 8 + reclen - 1);
  new DataView(unpadded.buffer).setInt32(4, reclen - 1, true);
  assert.throws(() => parseLinkerHints(unpadded, 'h'), /offset 0x4: record length 11 is not a multiple of 4/);
});
