/**
 * Issue 9, must-show 5 (the probe side): the probe kernel, booted under QEMU from a plan that carries what a real
 * host hands its kernel (vfs.root.mountfrom, acpi.rsdp, hints, a memory map record of the host's kind, FW_HANDLE),
 * reports each item as the kernel reads it, and the backend's verdict agrees with the plan. The probe's lines are
 * also parsed here and compared with what this file gave the planner, worked out by hand from FreeBSD's rules
 * (cited per value), never from the plan under test:
 *   amd64 UEFI: EFI map (MODINFOMD_EFI_MAP 0x1004, sys/x86/include/metadata.h) and FW_HANDLE;
 *   amd64 BIOS: SMAP (MODINFOMD_SMAP 0x1001), no FW_HANDLE, an acpi.rsdp the kernel ignores;
 *   arm64 UEFI: EFI map (MODINFOMD_EFI_MAP 0x1001, sys/arm64/include/metadata.h) and FW_HANDLE.
 * Then the probe's check of its own dynamic section (kernel/link_self.c, as sys/kern/link_elf.c link_elf_init reads
 * it) must be able to fail: a MODINFOMD_DYNAMIC record changed in the staged segment after load ends in PROBE FAIL.
 * Skipped cleanly without QEMU or without a built probe kernel.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {existsSync, readFileSync, readdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {parseProbeConsole} from '../../src/backend/qemu/console-protocol.js';
import {createQemuBackend, type QemuArch} from '../../src/backend/qemu/index.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import {KexecError} from '../../src/errors.js';
import {efiMapBytes} from '../helpers/efi-map.js';
import {planBytes, qemuSkip, tempDir, zlibCrc32} from './qemu-fixtures.js';

const BUILD = process.env.KEXEC_TS_PROBE_BUILD ?? fileURLToPath(new URL('../../examples/probe-kernel/build/', import.meta.url));

/** Three descriptors as machdep.efi_map holds them: conventional memory, runtime code (with its SetVirtualAddressMap
 * address), ACPI NVS. */
function efiMap(base: bigint): Uint8Array {
  return efiMapBytes([
    {type: 7, start: base, pages: 0x3000n, attribute: 0xfn},
    {type: 5, start: base + 0x3000_000n, pages: 0x10n, virt: 0xfffffe0000000000n + base + 0x3000_000n, attribute: 0x800000000000000fn},
    {type: 10, start: base + 0x3010_000n, pages: 0x20n, attribute: 0xfn},
  ]);
}

/** Three packed struct bios_smap entries (sys/x86/include/bios.h): RAM, reserved, ACPI. */
function smap(): Uint8Array {
  const out = new Uint8Array(3 * 20);
  const dv = new DataView(out.buffer);
  const entries: [bigint, bigint, number][] = [[0n, 0x9fc00n, 1], [0xf0000n, 0x10000n, 2], [0x100000n, 0x3ff00000n, 1]];
  entries.forEach(([base, length, type], i) => {
    dv.setBigUint64(20 * i, base, true);
    dv.setBigUint64(20 * i + 8, length, true);
    dv.setUint32(20 * i + 16, type, true);
  });
  return out;
}

interface Case {
  readonly name: string;
  readonly arch: QemuArch;
  readonly table: {flag: 'efiMap' | 'smap'; bytes: Uint8Array; name: 'EFI_MAP' | 'SMAP'; type: number; entries: number};
  readonly rsdp: string;
  /** What getenv_quad() (sys/kern/kern_environment.c) makes of rsdp: null when it refuses the value. */
  readonly rsdpParsed: bigint | null;
  readonly fwHandle?: bigint;
}

const CASES: readonly Case[] = [
  {
    name: 'amd64 UEFI', arch: 'amd64', rsdp: '0x7fe14', rsdpParsed: 0x7fe14n, fwHandle: 0x7fe9f018n,
    table: {flag: 'efiMap', bytes: efiMap(0x100000n), name: 'EFI_MAP', type: 0x1004, entries: 3},
  },
  {
    // "7fe14": strtoq base 10 stops at 'f', and "fe14" is no k/m/g/t suffix: the kernel ignores the variable.
    name: 'amd64 BIOS', arch: 'amd64', rsdp: '7fe14', rsdpParsed: null,
    table: {flag: 'smap', bytes: smap(), name: 'SMAP', type: 0x1001, entries: 3},
  },
  {
    name: 'arm64 UEFI', arch: 'arm64', rsdp: '0x43ff0000', rsdpParsed: 0x43ff0000n, fwHandle: 0x43fd0018n,
    table: {flag: 'efiMap', bytes: efiMap(0x40000000n), name: 'EFI_MAP', type: 0x1001, entries: 3},
  },
];

/* vfs_mountroot_conf0 tries one candidate per blank-separated token (sys/kern/vfs_mountroot.c parse_token). */
const MOUNTFROM = 'zfs:zroot/ROOT/default  ufs:/dev/gpt/rootfs';
const ROOT_CANDIDATES = ['zfs:zroot/ROOT/default', 'ufs:/dev/gpt/rootfs'];
/* The loader keeps its environment sorted by name (stand/common/environment.c env_setenv), so hints come in this order. */
const HINTS: [string, string][] = [['hint.uart.0.at', 'isa'], ['hint.uart.0.flags', '0x10'], ['hint.uart.0.port', '0x3F8']];

function skipFor(arch: QemuArch): string | false {
  const q = qemuSkip(arch);
  if (q !== false) return q;
  const kernel = join(BUILD, arch, 'kernel');
  return existsSync(kernel) ? false : `no probe kernel at ${kernel} (run examples/probe-kernel/build.sh)`;
}

describe('qemu: the probe reports root, ACPI, hints, memory map record and FW_HANDLE as planned', () => {
  for (const c of CASES) {
    test(c.name, {skip: skipFor(c.arch)}, async (t) => {
      const dir = tempDir(t);
      const tableFile = join(dir, c.table.flag === 'efiMap' ? 'efi_map.bin' : 'smap.bin');
      writeFileSync(tableFile, c.table.bytes);
      const backend = createQemuBackend({stateDir: join(dir, 'state'), arch: c.arch});
      const kernelDir = join(BUILD, c.arch);
      const env = new Map([['vfs.root.mountfrom', MOUNTFROM], ['acpi.rsdp', c.rsdp], ...[...HINTS].reverse()]);
      const {plan} = await planFiles({
        image: join(kernelDir, 'kernel'), modules: ['probe_hello'], modulePath: kernelDir, loaderConf: [], env: [...env].map(([name, value]) => ({name, value, source: '--env'})),
        [c.table.flag]: tableFile, ...(c.fwHandle === undefined ? {} : {fwHandle: c.fwHandle}),
        target: await backend.target(),
      });
      await backend.load(plan);
      const report = await backend.exec({});
      for (const l of report.lines) t.diagnostic(l);
      assert.match(report.lines.at(-1) ?? '', /^qemu: PROBE OK and the plan agrees/);

      const seen = parseProbeConsole(report.lines);
      assert.deepEqual(seen.malformed, []);
      assert.deepEqual(seen.root, ROOT_CANDIDATES);
      assert.equal(seen.acpi, c.rsdpParsed);
      assert.deepEqual(seen.hints, HINTS);
      assert.deepEqual(seen.memmap, {
        name: c.table.name, type: c.table.type, size: c.table.bytes.length, entries: c.table.entries, crc32: zlibCrc32(c.table.bytes),
      });
      assert.equal(seen.fwHandle, c.fwHandle);
      // The same, as exec --json reports it.
      const probe = report.handoff.probe as {root: string[]; acpi: string | null; memmap: {name: string; entries: number} | null; fwHandle: string | null};
      assert.deepEqual(probe.root, ROOT_CANDIDATES);
      assert.equal(probe.acpi, c.rsdpParsed === null ? 'invalid' : `0x${c.rsdpParsed.toString(16)}`);
      assert.deepEqual([probe.memmap?.name, probe.memmap?.entries], [c.table.name, c.table.entries]);
      assert.equal(probe.fwHandle, c.fwHandle === undefined ? null : `0x${c.fwHandle.toString(16)}`);
    });
  }
});

describe('qemu: the probe checks its own _DYNAMIC against MODINFOMD_DYNAMIC', () => {
  for (const arch of ['amd64', 'arm64'] as const) {
    test(`${arch}: a DYNAMIC record moved by 0x10 after load is a PROBE FAIL`, {skip: skipFor(arch)}, async (t) => {
      const dir = tempDir(t);
      const backend = createQemuBackend({stateDir: join(dir, 'state'), arch});
      const {plan} = await planFiles({image: join(BUILD, arch, 'kernel'), modules: [], loaderConf: [], target: await backend.target()});
      if (plan.handoff.kind !== 'freebsd') assert.fail('not a FreeBSD plan');
      await backend.load(plan);
      // Find the kernel's MODINFO_METADATA | MODINFOMD_DYNAMIC (0x8005, sys/sys/linker.h) record in the planned metadata.
      const md = planBytes(plan, plan.handoff.metadata, plan.handoff.metadataSize);
      const dv = new DataView(md.buffer, md.byteOffset, md.byteLength);
      let at = 0;
      while (dv.getUint32(at, true) !== 0x8005) at += 8 + Math.ceil(dv.getUint32(at + 4, true) / 8) * 8;
      const phys = plan.handoff.metadata + BigInt(at + 8);
      const seg = plan.segments.findIndex((s) => s.mem <= phys && phys < s.mem + s.bufsz);
      const gen = readdirSync(backend.stateDir).find((n) => n.startsWith('gen-')) ?? assert.fail('nothing staged');
      const file = join(backend.stateDir, gen, `segment-${String(seg).padStart(2, '0')}.bin`);
      const bytes = readFileSync(file);
      const off = Number(phys - (plan.segments[seg]?.mem ?? 0n));
      bytes.writeBigUInt64LE(bytes.readBigUInt64LE(off) + 0x10n, off);
      writeFileSync(file, bytes);
      const e = await backend.exec({}).then(() => assert.fail('exec succeeded'), (x: unknown) => x);
      assert.ok(e instanceof KexecError, String(e));
      assert.equal(e.reason, 'probe-fail', e.message);
      assert.match(e.message, /PROBE FAIL MODINFOMD_DYNAMIC 0x[0-9a-f]+ is not _DYNAMIC's link address/);
    });
  }
});
