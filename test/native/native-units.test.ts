/**
 * Native backend pieces that need no C library: RB_KEXEC parsing (FreeBSD sys/sys/reboot.h), errno naming, and
 * the lazy koffi import (a subprocess in which resolving 'koffi' fails must still run status/memoryMap and get a
 * clear error from probe).
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs';
import {constants, tmpdir} from 'node:os';
import {join} from 'node:path';
import {pathToFileURL} from 'node:url';
import {KexecError} from '../../src/errors.js';
import {errnoName, syscallError} from '../../src/backend/native/errno.js';
import {checkRbKexec, parseRbKexec} from '../../src/backend/native/rb-kexec.js';

test('parseRbKexec reads hex or decimal, with comments, parentheses and suffixes', () => {
  const cases: [string, number | undefined][] = [
    ['#define RB_KEXEC 0x1000000 /* kexec */', 0x1000000],
    ['#define\tRB_KEXEC\t0x01000000\t/* Boot into a staged kexec image */\n', 0x1000000],
    ['# define RB_KEXEC (0x2000000U) // note', 0x2000000],
    ['#define RB_KEXEC 16777216', 0x1000000],
    ['#define RB_BOOTINFO 0x80000000\n#define RB_KEXEC 0x80000000', -0x80000000],
    ['#define RB_KEXEC_X 0x4\n#define RB_PROBE 0x10000000', undefined],
    ['/* RB_KEXEC is not here */', undefined],
  ];
  for (const [text, want] of cases) assert.equal(parseRbKexec(text, 'reboot.h'), want, text);
});

test('parseRbKexec and checkRbKexec refuse what they cannot read or what is not one howto bit', () => {
  const refuse = (fn: () => unknown, reason: string, pattern: RegExp): void =>
    assert.throws(fn, (e: unknown) => e instanceof KexecError && e.reason === reason && pattern.test(e.message));
  refuse(() => parseRbKexec('#define RB_KEXEC (1 << 24)', 'h.h'), 'rb-kexec-unknown', /h\.h defines RB_KEXEC as "\(1 << 24\)"/);
  refuse(() => parseRbKexec('#define RB_KEXEC 0x1000004', 'h.h'), 'bad-rb-kexec', /0x1000004 from h\.h is not a single/);
  refuse(() => parseRbKexec('#define RB_KEXEC 0', 'h.h'), 'bad-rb-kexec', /RB_KEXEC 0x0/);
  refuse(() => checkRbKexec(0x100000000n, 'cfg'), 'bad-rb-kexec', /0x100000000 from cfg/);
  refuse(() => checkRbKexec(1.5, 'cfg'), 'bad-rb-kexec', /1\.5/);
  assert.equal(checkRbKexec(1, 'cfg'), 1);
});

test('errno numbers are named with this platform\'s os.constants.errno', () => {
  for (const name of ['EPERM', 'ENOENT', 'ENOMEM', 'EFAULT', 'EBUSY', 'EINVAL', 'ENOSYS']) {
    const n = constants.errno[name as keyof typeof constants.errno]; // names from the list above, all POSIX
    assert.equal(errnoName(n), name);
  }
  assert.equal(errnoName(constants.errno.EAGAIN), 'EAGAIN');
  assert.equal(errnoName(99999), undefined);
  const e = syscallError('kexec_load(entry=0x0, nseg=0, flags=0)', 99999, 'kexec_load');
  assert.equal(e.reason, 'errno-99999');
  assert.match(e.message, /failed with errno 99999: unexpected error/);
});

test('koffi is imported lazily: without it status/target work and probe explains', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kexec-nokoffi-'));
  try {
    const hooks = join(dir, 'hooks.mjs');
    writeFileSync(hooks, 'export async function resolve(s, c, next) { if (s === "koffi") throw new Error("koffi blocked by test"); return next(s, c); }\n');
    const register = join(dir, 'register.mjs');
    writeFileSync(register, `import {register} from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
    const map = join(dir, 'map.json');
    writeFileSync(map, '{"ranges": [{"start": "0x100000", "end": "0x200000"}]}');
    const backendUrl = pathToFileURL(join(process.cwd(), 'src/backend/native/native-backend.ts')).href;
    const mapUrl = pathToFileURL(join(process.cwd(), 'src/pipeline/memory-map-file.ts')).href;
    const script = `
      const {NativeBackend} = await import(${JSON.stringify(backendUrl)});
      const {readMemoryMapFile} = await import(${JSON.stringify(mapUrl)});
      const b = new NativeBackend({library: 'libkexecmock-never.so', memoryMap: await readMemoryMapFile(${JSON.stringify(map)}), recordDir: ${JSON.stringify(dir)}});
      const st = await b.status();
      const m = (await b.target()).memoryMap;
      const p = await b.probe();
      let loadErr; await b.unload().catch((e) => { loadErr = {code: e.code, reason: e.reason}; });
      console.log(JSON.stringify({staged: st.staged, ranges: m.ranges.length, p, loadErr}));`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', pathToFileURL(register).href, '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    // The child's one JSON line, shaped by the script above.
    const out = JSON.parse(r.stdout) as {staged: unknown; ranges: number; p: {available: boolean; reason: string}; loadErr: unknown};
    assert.equal(out.staged, null);
    assert.equal(out.ranges, 1);
    assert.equal(out.p.available, false);
    assert.match(out.p.reason, /cannot load koffi.*koffi blocked by test/);
    assert.deepEqual(out.loadErr, {code: 5, reason: 'koffi-unavailable'});
  } finally {
    rmSync(dir, {recursive: true, force: true});
  }
});
