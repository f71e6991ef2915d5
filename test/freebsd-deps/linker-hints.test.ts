/**
 * The test writer (test/helpers/linker-hints-writer.ts) against kldxref's output and against
 * src/image/freebsd/linker-hints.ts: the real FreeBSD 14.2 linker.hints is reproduced byte for byte, a record
 * is laid out exactly as kldxref.c writes it, and the reader in src agrees with the writer on every record.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {parseLinkerHints} from '../../src/image/freebsd/linker-hints.js';
import {CORPUS_DIR} from '../helpers/corpus.js';
import {hintModule, hintVersion, readLinkerHintsForTest, writeLinkerHints, type HintEntry} from '../helpers/linker-hints-writer.js';

const HINTS = join(CORPUS_DIR, 'freebsd-14-amd64', 'linker.hints');

/** What src's reader returns for the MODULE/VERSION entries (it drops PNP records). */
const asSrc = (entries: readonly HintEntry[]): unknown[] => entries.flatMap((e) =>
  e.type === 'module' ? [{type: 2, modname: e.modname, kldfile: e.kldfile}]
    : e.type === 'version' ? [{type: 3, modname: e.modname, version: e.version, kldfile: e.kldfile}] : []);

describe('linker.hints writer', () => {
  test('one MDT_VERSION record, byte by byte: reclen counts the padding, the version int is 4-aligned', () => {
    const bytes = writeLinkerHints([hintVersion('ab', 7, 'ab.ko')]);
    assert.equal(Buffer.from(bytes).toString('hex'), [
      '01000000', // version 1
      '14000000', // reclen 20
      '03000000', // MDT_VERSION
      '02616200', // "ab" + 1 byte of alignment padding
      '07000000', // version 7 at file offset 16
      '0561622e6b6f0000', // "ab.ko" + 2 bytes of record padding
    ].join(''));
  });

  test('names of every length modulo 4, with PNP records in between: src reads back the same records', () => {
    const entries: HintEntry[] = [];
    for (let n = 1; n <= 9; n++) {
      const name = 'abcdefghi'.slice(0, n);
      entries.push(hintModule(`${name}_pci`, `${name}.ko`), hintVersion(name, n * 100 - 1, `${name}.ko`));
      if (n % 3 === 0) entries.push({type: 'pnp', bus: 'pci', format: 'U16:vendor;U16:device', nentries: 1, entries: Uint8Array.of(0x86, 0x80, 0x34, 0x12)});
    }
    const bytes = writeLinkerHints(entries);
    assert.equal(bytes.length % 4, 0);
    assert.deepEqual(parseLinkerHints(bytes, 'synthetic'), asSrc(entries));
    assert.deepEqual(readLinkerHintsForTest(bytes), entries);
  });

  test('the version word and a truncated record are checked by both readers', () => {
    const good = writeLinkerHints([hintVersion('x', 1, 'x.ko')]);
    const v2 = writeLinkerHints([hintVersion('x', 1, 'x.ko')], 2);
    assert.throws(() => parseLinkerHints(v2, 'v2'), (e: Error & {reason?: string}) => e.reason === 'linker-hints-malformed' && /version 2, expected 1/.test(e.message));
    assert.throws(() => readLinkerHintsForTest(v2));
    const cut = good.subarray(0, good.length - 4);
    assert.throws(() => parseLinkerHints(cut, 'cut'), /runs past the end/);
    assert.throws(() => readLinkerHintsForTest(cut));
  });

  test('freebsd-14-amd64/linker.hints (kldxref output) is reproduced byte for byte', {skip: existsSync(HINTS) ? false : `${HINTS} is absent`}, () => {
    const real = new Uint8Array(readFileSync(HINTS));
    const entries = readLinkerHintsForTest(real);
    assert.equal(entries.length, 1783, 'the dump in linker.hints.txt counts 1783 records');
    assert.deepEqual(['module', 'version', 'pnp'].map((t) => entries.filter((e) => e.type === t).length), [795, 785, 203]);
    assert.ok(Buffer.from(writeLinkerHints(entries)).equals(real), 'writer output equals the real file');
    assert.deepEqual(parseLinkerHints(real, HINTS), asSrc(entries));
  });
});
