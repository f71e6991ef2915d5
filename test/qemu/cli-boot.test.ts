/**
 * Boot truth through the project's own commands: for amd64 and arm64, `kexec-ts load --backend qemu` the probe
 * kernel with its sample module (dependency added), environment variables and howto flags, then
 * `kexec-ts exec --backend qemu`: the probe must print PROBE OK and the backend must find every file's
 * CRC-32 equal to the planned bytes. A plan corrupted after load must make the command fail (exit 5).
 * Skips cleanly when QEMU for the architecture is not installed.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {readdirSync, readFileSync, realpathSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {createQemuBackend} from '../../src/backend/qemu/index.js';
import {KexecError} from '../../src/errors.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {planDigest} from '../../src/plan/digest.js';
import {segmentBuffer, segmentSha256} from '../../src/plan/segment-bytes.js';
import type {Plan} from '../../src/plan/types.js';
import {CLI_SKIP, expectExit, jsonError, oneJson, runCli, tempDir} from '../helpers/lifecycle-cli.js';
import {qemuSkip} from './qemu-fixtures.js';

const PROBE = fileURLToPath(new URL('../../examples/probe-kernel/build/', import.meta.url));

interface Boot {
  backend: string;
  digest: string;
  lines: string[];
}

for (const arch of ['amd64', 'arm64'] as const) {
  describe(`kexec-ts load + exec --backend qemu (${arch} probe kernel)`, {skip: CLI_SKIP || qemuSkip(arch)}, () => {
    const dir = join(PROBE, arch);
    const common = (state: string): string[] => ['--backend', 'qemu', '--arch', arch, '--state-dir', state];
    const load = (state: string): Promise<ReturnType<typeof runCli> extends Promise<infer R> ? R : never> =>
      runCli(['load', ...common(state), '--module-path', dir, '--env', 'hw.probe=1', '--env', 'probe.words=two words', '--howto', '-s -v', join(dir, 'kernel'), 'probe_hello', '--json']);

    test('PROBE OK, and every file, checksum, env variable and howto agree with the plan', async (t) => {
      const state = tempDir(t, 'kexec-qemu-cli-');
      const staged = oneJson<{plan: {digest: string; handoff: {files: {name: string}[]}}}>(expectExit(await load(state), 0, 'load'));
      assert.deepEqual(staged.plan.handoff.files.map((f) => f.name.split('/').pop()), ['kernel', 'probe_hello.ko', 'probe_dep.ko']);
      const boot = oneJson<Boot>(expectExit(await runCli(['exec', ...common(state), '--yes', '--json']), 0, 'exec'));
      assert.equal(boot.backend, 'qemu');
      assert.equal(boot.digest, staged.plan.digest);
      const probe = boot.lines.filter((l) => l.startsWith('PROBE '));
      assert.equal(probe[0]?.startsWith(`PROBE BEGIN arch=${arch} `), true, probe.join('\n'));
      assert.equal(probe.filter((l) => l.startsWith('PROBE FILE ')).length, 3);
      assert.ok(probe.includes('PROBE ENV hw.probe=1') && probe.includes('PROBE ENV probe.words=two words') && probe.includes('PROBE ENV boot_single=YES'), probe.join('\n'));
      assert.ok(probe.includes('PROBE HOWTO 0x802'), probe.join('\n'));
      assert.equal(probe[probe.length - 1], 'PROBE OK');
      assert.ok(!boot.lines.some((l) => l.startsWith('PROBE FAIL')));
      assert.match(boot.lines[boot.lines.length - 1] ?? '', /^qemu: PROBE OK and the plan agrees: 3 files/);
    });

    test('a module byte flipped after load makes exec fail with exit 5', async (t) => {
      const state = tempDir(t, 'kexec-qemu-cli-');
      expectExit(await load(state), 0, 'load');
      const current = realpathSync(join(state, 'current'));
      const plan = JSON.parse(readFileSync(join(current, 'plan.json'), 'utf8')) as {segments: {index: number; mem: string; contents: {label: string; mem: string}[]}[]};
      const seg = plan.segments.find((s) => s.contents.some((c) => c.label.startsWith('probe_dep.ko')));
      assert.ok(seg, 'a segment holds probe_dep.ko');
      const content = seg.contents.find((c) => c.label.startsWith('probe_dep.ko')) as {mem: string};
      const file = join(current, readdirSync(current).find((f) => f === `segment-${String(seg.index).padStart(2, '0')}.bin`) as string);
      const bytes = readFileSync(file);
      const at = Number(BigInt(content.mem) - BigInt(seg.mem)) + 16;
      bytes[at] = (bytes[at] ?? 0) ^ 0xff;
      writeFileSync(file, bytes);
      const r = await runCli(['exec', ...common(state), '--yes', '--json']);
      const e = jsonError(r, 5);
      assert.match(e.reason, /probe-(fail|mismatch)/);
    });
  });
}

for (const arch of ['amd64', 'arm64'] as const) {
  describe(`a plan built with a wrong modulep reaches the ${arch} probe`, {skip: qemuSkip(arch)}, () => {
    test('the probe prints PROBE FAIL and exec refuses with exit 5', async (t) => {
      const dir = join(PROBE, arch);
      const backend = createQemuBackend({stateDir: tempDir(t, 'kexec-qemu-cli-'), arch});
      const {plan: good} = await planFiles({image: join(dir, 'kernel'), modules: ['probe_hello'], modulePath: dir, target: await backend.target()});
      // Corrupt the plan before it is sealed: the trampoline hands the kernel modulep one page too far (zeros).
      const tramp = JSON.parse(readFileSync(fileURLToPath(new URL(`../../templates/trampolines/${arch}.json`, import.meta.url)), 'utf8')) as {symbols: Record<string, number>};
      const segments = good.segments.map((seg) => {
        if (good.entry < seg.mem || good.entry >= seg.mem + seg.memsz) return seg;
        const bytes = Buffer.from(segmentBuffer(seg));
        const at = Number(good.entry - seg.mem) + (tramp.symbols.param_modulep ?? -1);
        if (arch === 'amd64') bytes.writeUInt32LE(bytes.readUInt32LE(at) + 0x1000, at);
        else bytes.writeBigUInt64LE(bytes.readBigUInt64LE(at) + 0x1000n, at);
        const patched = {...seg, parts: [{offset: 0n, data: new Uint8Array(bytes)}]};
        return {...patched, sha256: segmentSha256(patched)};
      });
      const bad: Plan = {...good, segments, digest: planDigest({...good, segments})};
      await backend.load(bad);
      const e = await backend.exec({}).then(() => undefined, (err: unknown) => err);
      assert.ok(e instanceof KexecError, `exec must refuse, got ${String(e)}`);
      assert.equal(e.code, 5);
      assert.equal(e.reason, 'probe-fail', e.message);
      assert.match(e.message, /^qemu: PROBE FAIL /);
      assert.ok((e.details?.console as string[]).some((l) => l.startsWith('PROBE FAIL ')));
    });
  });
}
