/**
 * Issue 9, Must-show 5: the re-linked probe kernel (examples/probe-kernel) booted under QEMU on both architectures
 * from a plan made against a host snapshot (test/fixtures/hosts), the kernel and modules placed where that host's
 * loader would find them. The probe reads the hand-off as the kernel does and reports it; the report must show the
 * root mount source, the ACPI root and the memory map record the snapshot's files call for, each derived here
 * from the snapshot (fstab's "/" line, machdep.acpi_root, machdep.smap's entries), not from kexec-ts's plan.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {cpSync, readFileSync, rmSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {createQemuBackend, type QemuArch} from '../../src/backend/qemu/index.js';
import {readSnapshot} from '../../src/host/snapshot.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {bootProbe, qemuSkip, tempDir, zlibCrc32} from './qemu-fixtures.js';

const HOSTS = fileURLToPath(new URL('../fixtures/hosts/', import.meta.url));
const BUILD = process.env.KEXEC_TS_PROBE_BUILD ?? fileURLToPath(new URL('../../examples/probe-kernel/build/', import.meta.url));

const CASES: readonly {arch: QemuArch; host: string}[] = [
  {arch: 'amd64', host: 'amd64-bios-ufs-serial'},
  {arch: 'arm64', host: 'arm64-uefi-acpi'},
];

/** getrootmount(): the first fstab line whose mount point is "/": "<type>:<device>". */
function fstabRoot(dir: string): string {
  for (const line of readFileSync(join(dir, 'root/etc/fstab'), 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (!line.startsWith('#') && f[1] === '/') return `${f[2] as string}:${f[0] as string}`;
  }
  throw new Error('no root line');
}

describe('qemu: the probe kernel booted from a host-snapshot plan reports its root, ACPI root and memory record', () => {
  for (const c of CASES) {
    test(`${c.arch}: ${c.host}`, {skip: qemuSkip(c.arch)}, async (t) => {
      const dir = tempDir(t);
      const host = join(dir, 'host');
      cpSync(join(HOSTS, c.host), host, {recursive: true});
      // The probe build is the host's /boot/kernel; this demo boots the default kernel, not a nextboot one.
      cpSync(join(BUILD, c.arch), join(host, 'root', 'boot', 'kernel'), {recursive: true});
      rmSync(join(host, 'root', 'boot', 'nextboot.conf'), {force: true});
      const backend = createQemuBackend({stateDir: join(dir, 'state'), arch: c.arch});
      const {plan} = await planFiles({modules: ['probe_hello'], host: await readSnapshot(host), target: await backend.target()});
      const seen = await bootProbe(backend, plan, t);
      assert.deepEqual(seen.root, [fstabRoot(host)], 'the root mount source of the snapshot\'s fstab');
      const acpiRoot = /^machdep\.acpi_root=(\d+)$/m.exec(readFileSync(join(host, 'sysctl.txt'), 'utf8'))?.[1];
      assert.equal(seen.acpi, BigInt(acpiRoot ?? 'x'), 'the ACPI root of machdep.acpi_root');
      if (c.arch === 'amd64') {
        const x = new Uint8Array(readFileSync(join(host, 'sysctl', 'machdep.smap')));
        const packed = new Uint8Array((x.length / 24) * 20);
        for (let i = 0; i < x.length / 24; i++) packed.set(x.subarray(i * 24, i * 24 + 20), i * 20);
        assert.deepEqual(seen.memmap, {name: 'SMAP', type: 0x1001, size: packed.length, entries: x.length / 24, crc32: zlibCrc32(packed)},
          'MODINFOMD_SMAP: machdep.smap without the xattr words');
      } else {
        assert.equal(seen.memmap?.name, 'EFI_MAP');
        assert.equal(seen.memmap?.type, 0x1001, 'MODINFOMD_EFI_MAP is 0x1001 on arm64 (sys/arm64/include/metadata.h)');
      }
    });
  }
});
