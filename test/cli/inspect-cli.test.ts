/**
 * `kexec-ts inspect` as a user runs it (the compiled dist/, run in this process by test/helpers/cli.ts): exit codes,
 * the one-line error on stderr (plus an optional "  hint:" line, never a stack), and the {"error": …} object on stdout with --json.
 */
import {after, before, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {CLI_BUILT, CORPUS_PRESENT, CORPUS_SKIP, corpusFile, runCli, type CliResult} from '../helpers/corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'kexec-ts-inspect-cli-'));
after(() => rmSync(dir, {recursive: true, force: true}));
const notBuilt = CLI_BUILT ? false : 'dist/ is not built (npm run build)';

/**
 * A minimal valid ELF64 little-endian x86-64 EXEC: header (64 bytes), one PT_LOAD R-X at 0x400000 (56 bytes),
 * one SHT_NULL section header (64 bytes) after the segment's file bytes; 184 bytes, entry 0x401000.
 */
function tinyElf64(): Buffer {
  const b = Buffer.alloc(184);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0);
  b.writeUInt16LE(2, 16); // e_type EXEC
  b.writeUInt16LE(62, 18); // e_machine x86-64
  b.writeUInt32LE(1, 20); // e_version
  b.writeBigUInt64LE(0x401000n, 24); // e_entry
  b.writeBigUInt64LE(64n, 32); // e_phoff
  b.writeBigUInt64LE(120n, 40); // e_shoff
  b.writeUInt16LE(64, 52); // e_ehsize
  b.writeUInt16LE(56, 54); // e_phentsize
  b.writeUInt16LE(1, 56); // e_phnum
  b.writeUInt16LE(64, 58); // e_shentsize
  b.writeUInt16LE(1, 60); // e_shnum (e_shstrndx 0: no names)
  b.writeUInt32LE(1, 64); // p_type PT_LOAD
  b.writeUInt32LE(5, 68); // p_flags R+X
  b.writeBigUInt64LE(0x400000n, 80); // p_vaddr
  b.writeBigUInt64LE(0x400000n, 88); // p_paddr
  b.writeBigUInt64LE(120n, 96); // p_filesz: headers only, so the section table is outside every segment
  b.writeBigUInt64LE(0x2000n, 104); // p_memsz
  b.writeBigUInt64LE(0x1000n, 112); // p_align
  return b;
}

/** Cut points of an ELF64 file: inside e_ident, inside the header, mid program-header and mid section-header table. */
function cuts(bytes: Buffer): {label: string; length: number; field: RegExp}[] {
  const phoff = Number(bytes.readBigUInt64LE(32));
  const shoff = Number(bytes.readBigUInt64LE(40));
  const phTable = bytes.readUInt16LE(54) * bytes.readUInt16LE(56);
  const shTable = bytes.readUInt16LE(58) * bytes.readUInt16LE(60);
  assert.ok(phTable > 0 && shTable > 0 && shoff + shTable <= bytes.length, 'test input needs both tables');
  return [
    {label: '10 bytes', length: 10, field: /e_ident/},
    {label: '40 bytes', length: 40, field: /ELF header/i},
    {label: 'mid program-header table', length: phoff + Math.floor(phTable / 2) + 3, field: /program header/i},
    {label: 'mid section-header table', length: shoff + Math.floor(shTable / 2) + 5, field: /section header/i},
  ];
}

/** Asserts the one-line error contract of a failed run without --json. */
function assertTextError(r: CliResult, code: number, mention: string, field?: RegExp): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '', 'stdout must be empty on error');
  assert.ok(r.stderr.endsWith('\n'), 'stderr must end with a newline');
  const lines = r.stderr.slice(0, -1).split('\n');
  assert.ok(lines.length === 1 || lines.length === 2, `expected 1 or 2 stderr lines, got:\n${r.stderr}`);
  assert.match(lines[0] as string, /^kexec-ts: \S/);
  assert.ok((lines[0] as string).includes(mention), `the message should name ${JSON.stringify(mention)}: ${lines[0]}`);
  if (field !== undefined) assert.match(lines[0] as string, field);
  if (lines.length === 2) assert.match(lines[1] as string, /^ {2}hint: \S/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
  assertNotSelfContradictory(lines[0] as string);
}

/** "magic is X, expected X" tells the user nothing: the quoted actual value must differ from the expected one. */
function assertNotSelfContradictory(message: string): void {
  const m = /magic is "([^"]*)", expected "([^"]*)"/.exec(message);
  if (m) assert.notEqual(m[1], m[2], `the message quotes the expected magic as the wrong one: ${message}`);
}

/** Asserts the --json error contract. */
function assertJsonError(r: CliResult, code: number, mention: string): void {
  assert.equal(r.code, code, `exit code (stdout: ${r.stdout}, stderr: ${r.stderr})`);
  assert.equal(r.stderr, '', 'with --json the error goes to stdout only');
  const parsed = JSON.parse(r.stdout) as {error?: {code?: unknown; reason?: unknown; message?: unknown; hint?: unknown}};
  const e = parsed.error;
  assert.ok(e !== undefined && typeof e === 'object', 'stdout must be {"error": {...}}');
  assert.deepEqual(Object.keys(parsed), ['error']);
  assert.equal(e.code, r.code, 'error.code equals the exit code');
  assert.ok(typeof e.reason === 'string' && e.reason.length > 0, 'error.reason is a non-empty string');
  assert.ok(typeof e.message === 'string' && e.message.includes(mention), `error.message should name ${mention}: ${String(e.message)}`);
  assert.ok(!e.message.includes('\n'), 'error.message is one line');
  assert.ok(e.hint === undefined || typeof e.hint === 'string', 'error.hint is a string when present');
  assertNotSelfContradictory(e.message);
}

async function expectFailure(args: string[], code: number, mention: string, field?: RegExp): Promise<void> {
  const [text, json] = await Promise.all([runCli(args), runCli([...args, '--json'])]);
  assertTextError(text, code, mention, field);
  assertJsonError(json, code, mention);
}

describe('inspect: bad input files exit 3 with one line naming the file', {skip: notBuilt, concurrency: 4}, () => {
  const tiny = join(dir, 'tiny.elf');
  before(() => writeFileSync(tiny, tinyElf64()));

  test('the hand-made ELF64 itself is valid (so its cuts fail only for being cut)', async () => {
    const r = await runCli(['inspect', '--json', tiny]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const report = JSON.parse(r.stdout) as {entry: string; machineCode: number; programHeaders: {type: string; flags: string}[]};
    assert.equal(report.entry, '0x401000');
    assert.equal(report.machineCode, 62);
    assert.deepEqual(report.programHeaders.map((p) => `${p.type} ${p.flags}`), ['LOAD R-X']);
  });

  test('a text file', async () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'this is a text file, not an ELF image\n'.repeat(8));
    await expectFailure(['inspect', file], 3, file, /not an ELF file \(magic is "74 68 69 73", expected "7f 45 4c 46"\)/);
  });

  test('a directory', async () => {
    await expectFailure(['inspect', dir], 3, dir, /: is a directory, not a file$/);
  });

  test('a missing file', async () => {
    const file = join(dir, 'no-such-kernel');
    await expectFailure(['inspect', file], 3, file, /: no such file$/);
  });

  for (const c of cuts(tinyElf64())) {
    test(`the hand-made ELF64 cut to ${c.label} (${c.length} bytes)`, async () => {
      const file = join(dir, `tiny-${c.length}.elf`);
      writeFileSync(file, tinyElf64().subarray(0, c.length));
      await expectFailure(['inspect', file], 3, file, c.field);
    });
  }

  for (const rel of ['elf-misc/hello-freebsd-x86_64', 'debian/xen-hypervisor-4.17-amd64-dbg/xen-syms-4.17-amd64']) {
    const whole = CORPUS_PRESENT ? readFileSync(corpusFile(rel)) : undefined;
    if (whole === undefined) {
      test(`${rel} cut at several lengths`, {skip: CORPUS_SKIP}, () => {});
      continue;
    }
    for (const c of cuts(whole)) {
      test(`${rel} cut to ${c.label} (${c.length} bytes)`, async () => {
        const file = join(dir, `${rel.replaceAll('/', '_')}-${c.length}`);
        writeFileSync(file, whole.subarray(0, c.length));
        await expectFailure(['inspect', file], 3, file, c.field);
      });
    }
  }
});

describe('inspect: usage errors exit 2', {skip: notBuilt, concurrency: 2}, () => {
  test('an unknown flag', async () => {
    await expectFailure(['inspect', '--no-such-flag', join(dir, 'x')], 2, '--no-such-flag', /^kexec-ts: Nonexistent flag: --no-such-flag$/);
  });

  // Found converting this file: the message is cut to oclif's first line, "Missing 1 required arg:", which names no
  // argument (base-command.ts keeps only the first line of a CLIError). Left as a todo for the fix, not encoded.
  test('no arguments: the message names the missing argument', async () => {
    await expectFailure(['inspect'], 2, 'file');
  });
});

describe('inspect --json on a real file', {skip: notBuilt || CORPUS_SKIP}, () => {
  test('elf-misc/hello-freebsd-x86_64 gives one JSON report on stdout', async () => {
    const file = corpusFile('elf-misc/hello-freebsd-x86_64');
    const r = await runCli(['inspect', '--json', file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const report = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(report.file, file);
    assert.equal(report.class, 64);
    assert.equal(report.endianness, 'little');
    assert.equal(report.type, 'EXEC');
    assert.equal(report.machineCode, 62);
    assert.equal(report.osabi, 'UNIX - FreeBSD');
    assert.equal(report.entry, '0x4004e0');
    assert.equal((report.programHeaders as unknown[]).length, 8);
    assert.ok(Array.isArray(report.warnings));
  });
});
