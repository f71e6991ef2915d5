/**
 * The full probe flow on real emulated CPUs, when the probe kernel has been built (examples/probe-kernel/build.sh
 * writes examples/probe-kernel/build/<arch>/{kernel,probe_hello.ko,probe_dep.ko}; KEXEC_TS_PROBE_BUILD names
 * another build directory): kexec-ts's planner loads the probe kernel with the module probe_hello (and the
 * dependency it finds), an environment and howto against the QEMU backend's memory map; load + exec must end in
 * PROBE OK with every file's name, address, size and CRC-32 agreeing with the plan. Two negative runs change the
 * staged image after load (one module byte in its segment file; modulep in plan.json) and must be refused with
 * exit 5 (PROBE FAIL or a mismatch). Skipped cleanly without QEMU or without a built probe kernel.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {createQemuBackend, type QemuArch, type QemuBackend} from '../../src/backend/qemu/index.js';
import {KexecError} from '../../src/errors.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import type {Plan} from '../../src/plan/types.js';
import {handoffOf, qemuSkip, tempDir} from './qemu-fixtures.js';

const BUILD = process.env.KEXEC_TS_PROBE_BUILD ?? fileURLToPath(new URL('../../examples/probe-kernel/build/', import.meta.url));
const ENV = new Map([['probe.qemu', 'yes'], ['probe.words', 'two words']]);
const HOWTO = 0x800; // RB_VERBOSE: also boot_verbose=YES in the environment

function skipFor(arch: QemuArch): string | false {
  const q = qemuSkip(arch);
  if (q !== false) return q;
  const kernel = join(BUILD, arch, 'kernel');
  return existsSync(kernel) ? false : `no probe kernel at ${kernel} (run examples/probe-kernel/build.sh)`;
}

async function loadProbe(t: {after: (fn: () => void) => void}, arch: QemuArch): Promise<{backend: QemuBackend; plan: Plan}> {
  const backend = createQemuBackend({stateDir: join(tempDir(t), 'state'), arch});
  const dir = join(BUILD, arch);
  const {plan} = await planFiles({
    image: join(dir, 'kernel'), modules: ['probe_hello'], modulePath: dir, loaderConf: [], env: [...ENV].map(([name, value]) => ({name, value, source: 'test'})), howto: {howto: HOWTO, env: [], ignored: []},
    target: await backend.target(),
  });
  await backend.load(plan);
  return {backend, plan};
}

function stagedFile(backend: QemuBackend, name: string): string {
  const gen = readdirSync(backend.stateDir).find((n) => n.startsWith('gen-')) ?? assert.fail('nothing staged');
  return join(backend.stateDir, gen, name);
}

async function refusal(backend: QemuBackend): Promise<KexecError> {
  const e = await backend.exec({}).then(() => assert.fail('exec succeeded on a changed image'), (x: unknown) => x);
  assert.ok(e instanceof KexecError, String(e));
  assert.equal(e.code, 5, e.message);
  assert.ok(['probe-fail', 'probe-mismatch', 'plan-tampered'].includes(e.reason), `${e.reason}: ${e.message}`);
  return e;
}

for (const arch of ['amd64', 'arm64'] as const) {
  describe(`qemu ${arch}: the probe kernel`, {skip: skipFor(arch)}, () => {
    test('load + exec: PROBE OK, and every file, env variable, howto and kernend agree with the plan', async (t) => {
      const {backend, plan} = await loadProbe(t, arch);
      const h = handoffOf(plan);
      const started = Date.now();
      const report = await backend.exec({});
      const ms = Date.now() - started;
      assert.equal(report.backend, 'qemu');
      assert.equal(report.digest, plan.digest);
      assert.ok(report.lines.includes('PROBE OK'));
      assert.match(report.lines.at(-1) ?? '', new RegExp(`^qemu: PROBE OK and the plan agrees: ${h.files.length} files`));
      const probe = report.handoff.probe as {files: {name: string; addr: string; size: string}[]; env: Record<string, string>; howto: string};
      assert.deepEqual(probe.files.map((f) => [f.name, f.addr, f.size]), h.files.map((f) => [f.name, f.addr, f.size]));
      assert.ok(h.files.some((f) => f.name.endsWith('probe_hello.ko')), 'probe_hello.ko is loaded');
      assert.equal(probe.env['probe.words'], 'two words');
      assert.equal(probe.howto, '0x800');
      t.diagnostic(`${arch} probe boot: ${ms} ms`);
      for (const l of report.lines) t.diagnostic(l);
    });

    test('one module byte flipped in the staged segment file after load: refused (exit 5)', async (t) => {
      const {backend, plan} = await loadProbe(t, arch);
      const h = handoffOf(plan);
      const mod = h.files.find((f) => f.name.endsWith('probe_hello.ko')) ?? assert.fail('no probe_hello.ko');
      const phys = (BigInt(mod.addr) + BigInt(h.physOffset)) & ((1n << 64n) - 1n);
      const index = plan.segments.findIndex((s) => s.mem <= phys && phys < s.mem + s.bufsz);
      const file = stagedFile(backend, `segment-${String(index).padStart(2, '0')}.bin`);
      const bytes = readFileSync(file);
      const at = Number(phys - (plan.segments[index]?.mem ?? 0n)) + Number(BigInt(mod.size) / 2n);
      bytes[at] = (bytes[at] ?? 0) ^ 0x01;
      writeFileSync(file, bytes);
      const e = await refusal(backend);
      t.diagnostic(`${arch}: ${e.message}`);
    });

    test('modulep patched in the staged plan.json after load: refused (exit 5)', async (t) => {
      const {backend} = await loadProbe(t, arch);
      const path = stagedFile(backend, 'plan.json');
      const json = JSON.parse(readFileSync(path, 'utf8')) as {handoff: {modulep: string}};
      json.handoff.modulep = `0x${(BigInt(json.handoff.modulep) + 0x1000n).toString(16)}`;
      writeFileSync(path, JSON.stringify(json));
      const e = await refusal(backend);
      assert.match(e.message, /plan\.json: "handoff" changed since the image was loaded/);
      t.diagnostic(`${arch}: ${e.message}`);
    });
  });
}
