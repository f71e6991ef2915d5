/**
 * Large inputs read where needed (src/io/input-file.ts, file-bytes.ts, the paged ElfFile): the same plan as from
 * a file read whole, chunked reads that agree with the file, and a refusal when the file changes after it was
 * checked (the bytes hashed and staged must be the bytes of the file that was opened).
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {ElfFile} from '../../src/elf/elf-file.js';
import {KexecError} from '../../src/errors.js';
import {FileBytes} from '../../src/io/file-bytes.js';
import {InputFile} from '../../src/io/input-file.js';
import {planFiles} from '../../src/pipeline/plan-files.js';

const PROBE = 'examples/probe-kernel/build/amd64';

function tempDir(t: {after: (fn: () => void) => void}): string {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-input-'));
  t.after(() => rmSync(dir, {recursive: true, force: true}));
  return dir;
}

test('a kernel parsed page by page plans exactly as the same kernel read whole', async () => {
  const whole = await ElfFile.open(`${PROBE}/kernel`);
  const paged = await ElfFile.open(`${PROBE}/kernel`, 0);
  const req = {image: `${PROBE}/kernel`, modules: ['probe_hello'], modulePath: PROBE};
  const a = (await planFiles({...req, elf: whole})).plan;
  const b = (await planFiles({...req, elf: paged})).plan;
  assert.equal(b.digest, a.digest);
  assert.deepEqual(b.segments.map((s) => s.sha256), a.segments.map((s) => s.sha256));
  assert.ok(b.segments.some((s) => s.parts.some((p) => p.data instanceof FileBytes)), 'the paged kernel hands its PT_LOADs on unread');
  assert.ok(a.segments.every((s) => s.parts.every((p) => !(p.data instanceof FileBytes))), 'a small file read whole hands on views');
});

test('FileBytes: subarray and chunked reads give the file bytes', (t) => {
  const path = join(tempDir(t), 'f.bin');
  const content = Buffer.from(Array.from({length: 10_000}, (_, i) => (i * 7) & 0xff));
  writeFileSync(path, content);
  const b = new FileBytes(InputFile.open(path, {what: '', maxBytes: 1 << 20}), 100, 9000).subarray(50, -50);
  assert.equal(b.length, 8900);
  const chunks: Buffer[] = [];
  b.forEachChunk((c) => chunks.push(Buffer.from(c)), 4096);
  assert.deepEqual(chunks.map((c) => c.length), [4096, 4096, 708]);
  assert.deepEqual(Buffer.concat(chunks), content.subarray(150, 9050));
  assert.deepEqual(Buffer.from(b.read()), content.subarray(150, 9050));
});

test('a file that changes after it was opened is refused by name, not read', (t) => {
  const path = join(tempDir(t), 'f.bin');
  writeFileSync(path, Buffer.alloc(8192, 1));
  const input = InputFile.open(path, {what: '', maxBytes: 1 << 20});
  assert.deepEqual(input.read(0, 4), new Uint8Array([1, 1, 1, 1]));
  appendFileSync(path, Buffer.alloc(10));
  assert.throws(() => input.read(0, 4), (e: unknown) => e instanceof KexecError && e.code === 3 && e.reason === 'input-changed' && e.message.startsWith(`${path}: changed while kexec-ts was using it`));
  assert.equal(readFileSync(path).length, 8202);
});
