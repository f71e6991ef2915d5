/**
 * Issue 9, must-show 5: for each hand-made host snapshot of test/fixtures/hosts, the re-linked probe kernel (with
 * probe_hello.ko and its dependency) is put where that host's loader would find it, planned with `host` as
 * `load --host DIR` does against the QEMU machine, booted under QEMU, and the probe confirms what it was given. The
 * backend's verdict compares every line with the plan; this file compares the root, ACPI, hint and memory map lines
 * with the snapshot's own files, by the FreeBSD rule each follows (never with the plan):
 *   ROOT   the first "/" line of etc/fstab as "<type>:<device>" (stand/common/boot.c getrootmount), else the ZFS
 *          dataset mount -p shows on "/"; written out per case below from the line named;
 *   ACPI   machdep.acpi_root of sysctl.txt (SYSCTL_ULONG, decimal: sys/x86/acpica/OsdEnvironment.c, arm64 likewise);
 *   HINT   every hint.* variable of the snapshot's kenv is among the probe's hints;
 *   MEMMAP amd64 UEFI: MODINFOMD_EFI_MAP 0x1004 holding machdep.efi_map (size 32 + memory_size, entries
 *          memory_size / descriptor_size); amd64 BIOS: MODINFOMD_SMAP 0x1001 with one 20-byte entry per 24-byte
 *          struct bios_smap_xattr of machdep.smap; arm64: MODINFOMD_EFI_MAP 0x1001 (sys/arm64/include/metadata.h);
 *   FW_HANDLE none: a running FreeBSD exports no EFI system table address.
 * Skipped cleanly without QEMU or without a built probe kernel.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseProbeConsole} from '../../src/backend/qemu/console-protocol.js';
import {createQemuBackend, type QemuArch} from '../../src/backend/qemu/index.js';
import {readSnapshot} from '../../src/host/snapshot.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {buildFreeBsdModule} from '../fixtures/freebsd-module.js';
import {qemuSkip, tempDir} from './qemu-fixtures.js';

const BUILD = process.env.KEXEC_TS_PROBE_BUILD ?? fileURLToPath(new URL('../../examples/probe-kernel/build/', import.meta.url));
const HOSTS = fileURLToPath(new URL('../fixtures/hosts/', import.meta.url));

interface HostCase {
  readonly name: string;
  readonly arch: QemuArch;
  /** Where config.lua finds the kernel (arm64-uefi-acpi's nextboot.conf says kernel="kernel.test"). */
  readonly kernelAt: string;
  /** What getrootmount makes of the line named. */
  readonly root: string;
  readonly memmap: {readonly name: 'EFI_MAP' | 'SMAP'; readonly type: number};
  /** Modules loader.conf loads that the probe kernel does not provide (amd64 ET_REL stand-ins). */
  readonly extraModules?: readonly string[];
}

const CASES: readonly HostCase[] = [
  // commands/mount-p:1 "zroot/ROOT/default / zfs" (etc/fstab has no "/" line); loader.conf: zfs_load, cryptodev, aesni.
  {name: 'amd64-uefi-zfs', arch: 'amd64', kernelAt: '/boot/kernel/kernel', root: 'zfs:zroot/ROOT/default', memmap: {name: 'EFI_MAP', type: 0x1004}, extraModules: ['zfs', 'cryptodev', 'aesni']},
  // etc/fstab:2 "/dev/gpt/rootfs / ufs rw 1 1".
  {name: 'amd64-bios-ufs-serial', arch: 'amd64', kernelAt: '/boot/kernel/kernel', root: 'ufs:/dev/gpt/rootfs', memmap: {name: 'SMAP', type: 0x1001}},
  // etc/fstab:2 "/dev/ufs/rootfs / ufs rw 1 1".
  {name: 'arm64-uefi-acpi', arch: 'arm64', kernelAt: '/boot/kernel.test/kernel', root: 'ufs:/dev/ufs/rootfs', memmap: {name: 'EFI_MAP', type: 0x1001}},
  // etc/fstab:1 "/dev/ufs/rootfs / ufs rw,noatime 1 1".
  {name: 'arm64-dtb', arch: 'arm64', kernelAt: '/boot/kernel/kernel', root: 'ufs:/dev/ufs/rootfs', memmap: {name: 'EFI_MAP', type: 0x1001}},
];

function skipFor(arch: QemuArch): string | false {
  const q = qemuSkip(arch);
  if (q !== false) return q;
  const kernel = join(BUILD, arch, 'kernel');
  return existsSync(kernel) ? false : `no probe kernel at ${kernel} (run examples/probe-kernel/build.sh)`;
}

/** A copy of the snapshot with the probe kernel and its modules where the host's loader would find them. */
function assemble(dir: string, c: HostCase): string {
  const snap = join(dir, c.name);
  cpSync(join(HOSTS, c.name), snap, {recursive: true});
  const kernelDir = join(snap, 'root', dirname(c.kernelAt));
  mkdirSync(kernelDir, {recursive: true});
  for (const f of ['kernel', 'probe_hello.ko', 'probe_dep.ko']) copyFileSync(join(BUILD, c.arch, f), join(kernelDir, f));
  for (const m of c.extraModules ?? []) writeFileSync(join(kernelDir, `${m}.ko`), buildFreeBsdModule({name: m, version: 1}));
  return snap;
}

/** `name=value` of sysctl.txt, `name="value"` of kenv. */
function assignments(text: string, quoted: boolean): Map<string, string> {
  const re = quoted ? /^([^#=\s]+)="(.*)"\s*$/ : /^([a-z_][\w.%-]*)=(.*)$/;
  return new Map(text.split('\n').flatMap((l) => {
    const m = re.exec(l);
    return m === null ? [] : [[m[1] as string, m[2] as string] as [string, string]];
  }));
}

/** The memory map record the snapshot's firmware tables give (size, entries), or undefined for arm64. */
function expectedTable(snap: string, c: HostCase): {size: number; entries: number} | undefined {
  if (c.arch !== 'amd64') return undefined;
  const bytes = readFileSync(join(snap, 'sysctl', c.memmap.name === 'EFI_MAP' ? 'machdep.efi_map' : 'machdep.smap'));
  if (c.memmap.name === 'SMAP') return {size: (bytes.length / 24) * 20, entries: bytes.length / 24};
  const memorySize = Number(bytes.readBigUInt64LE(0));
  return {size: 32 + memorySize, entries: memorySize / Number(bytes.readBigUInt64LE(8))};
}

describe('qemu: the probe kernel booted from a host snapshot plan confirms root, ACPI root, hints and memory map', () => {
  for (const c of CASES) {
    test(c.name, {skip: skipFor(c.arch)}, async (t) => {
      const dir = tempDir(t);
      const snap = assemble(dir, c);
      const backend = createQemuBackend({stateDir: join(dir, 'state'), arch: c.arch});
      const {plan} = await planFiles({modules: ['probe_hello'], host: await readSnapshot(snap), target: await backend.target()});
      await backend.load(plan);
      const report = await backend.exec({});
      for (const l of report.lines.filter((x) => /PROBE (ROOT|ACPI|HINT|MEMMAP|FW_HANDLE|OK)|^qemu:/.test(x))) t.diagnostic(l);
      assert.match(report.lines.at(-1) ?? '', /^qemu: PROBE OK and the plan agrees/);

      const seen = parseProbeConsole(report.lines);
      assert.deepEqual(seen.root, [c.root], 'ROOT: the root getrootmount finds on this host');
      const acpiRoot = assignments(readFileSync(join(snap, 'sysctl.txt'), 'utf8'), false).get('machdep.acpi_root');
      assert.equal(seen.acpi, acpiRoot === undefined ? undefined : BigInt(acpiRoot), 'ACPI: machdep.acpi_root');
      const hints = new Map(seen.hints);
      for (const [k, v] of assignments(readFileSync(join(snap, 'kenv'), 'utf8'), true)) {
        if (k.startsWith('hint.')) assert.equal(hints.get(k), v, `HINT ${k} from the snapshot's kenv`);
      }
      assert.equal(seen.memmap?.name, c.memmap.name);
      assert.equal(seen.memmap?.type, c.memmap.type);
      const table = expectedTable(snap, c);
      if (table !== undefined) assert.deepEqual([seen.memmap?.size, seen.memmap?.entries], [table.size, table.entries], 'the host\'s firmware table');
      assert.equal(seen.fwHandle, undefined, 'no FW_HANDLE: the host does not export it');
    });
  }
});
