/**
 * Issue 9, Must-show 1: for each hand-made host snapshot of test/fixtures/hosts (README there says where every
 * value comes from), `plan --host DIR` hands the new kernel what FreeBSD's loader would on that host. Each
 * expectation is derived here from the snapshot's own files and the FreeBSD rule it follows, never from kexec-ts:
 *   - vfs.root.mountfrom: stand/common/boot.c getrootmount (first fstab line whose mount point is "/":
 *     "<type>:<device>", options from the fourth field), else the ZFS dataset mounted on / (mount -p);
 *   - acpi.rsdp: machdep.acpi_root (SYSCTL_ULONG, decimal), the address acpica/OsdEnvironment.c found;
 *   - hints: every hint.* line of /boot/device.hints (loader_conf_files of defaults/loader.conf) and of kenv;
 *   - kernelname: the absolute path the loader loads (load_elf.c), here where config.lua finds the kernel;
 *   - the memory record: amd64 UEFI MODINFOMD_EFI_MAP = machdep.efi_map bytes; amd64 BIOS MODINFOMD_SMAP =
 *     machdep.smap's struct bios_smap_xattr entries without xattr; arm64 MODINFOMD_EFI_MAP (0x1001);
 *   - the checklist: every item present with a source, or missing with its consequence.
 * The plan's memory is rebuilt from its segments and the metadata and environment decoded by test/helpers.
 */
import {after, describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {dirname, join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {readSnapshot} from '../../src/host/snapshot.js';
import {planFiles} from '../../src/pipeline/plan-files.js';
import type {Plan} from '../../src/plan/types.js';
import {buildFreeBsdKernel} from '../fixtures/freebsd-kernel.js';
import {buildFreeBsdModule} from '../fixtures/freebsd-module.js';
import {BINARY_SYSCTL_FILES} from '../fixtures/hosts/binary-sysctls.js';
import {MODINFOMD_ARM64, MODINFOMD_X86, decodeMetadata, readEnvironment, walkPreload} from '../helpers/modinfo-decoder.js';
import {PhysicalMemory} from '../helpers/physical-memory.js';

const HOSTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'hosts');
const work = mkdtempSync(join(tmpdir(), 'kexec-hosts-'));
after(() => rmSync(work, {recursive: true, force: true}));

/** `name="value"` lines (kenv(1) and device.hints). */
function quotedAssignments(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([^#=\s]+)="(.*)"\s*$/.exec(line);
    if (m !== null) out.set(m[1] as string, m[2] as string);
  }
  return out;
}

/** `name=value` lines of sysctl.txt (first line of each value). */
function sysctls(text: string): Map<string, string> {
  return new Map(text.split('\n').flatMap((l) => {
    const m = /^([a-z_][\w.%-]*)=(.*)$/.exec(l);
    return m === null ? [] : [[m[1] as string, m[2] as string] as [string, string]];
  }));
}

/** getrootmount(): the first "/" line of fstab, else the ZFS dataset mount -p shows on "/". */
function expectedRoot(dir: string): {mountfrom: string; options?: string} {
  const read = (p: string): string => {
    try {
      return readFileSync(join(dir, p), 'utf8');
    } catch {
      return '';
    }
  };
  for (const line of read('root/etc/fstab').split('\n')) {
    if (line.startsWith('#')) continue;
    const f = line.trim().split(/\s+/);
    if (f[1] === '/' && f.length >= 4) return {mountfrom: `${f[2]}:${f[0]}`, options: f[3] as string};
  }
  const root = read('commands/mount-p').split('\n').map((l) => l.split(/\s+/)).find((f) => f[1] === '/' && f[2] === 'zfs');
  assert.ok(root !== undefined, `${dir}: neither fstab nor mount -p gives a root`);
  return {mountfrom: `zfs:${root[0] as string}`};
}

interface HostCase {
  readonly name: string;
  readonly arch: 'amd64' | 'arm64';
  /** Where config.lua finds the kernel on this host (nextboot.conf may choose another directory). */
  readonly kernelAt: string;
  /** Modules the host's loader.conf needs that the test puts into the snapshot's /boot. */
  readonly modules?: readonly string[];
  readonly memoryRecord: 'EFI_MAP' | 'SMAP';
}

const CASES: readonly HostCase[] = [
  {name: 'amd64-uefi-zfs', arch: 'amd64', kernelAt: '/boot/kernel/kernel', modules: ['zfs', 'cryptodev', 'aesni'], memoryRecord: 'EFI_MAP'},
  {name: 'amd64-bios-ufs-serial', arch: 'amd64', kernelAt: '/boot/kernel/kernel', memoryRecord: 'SMAP'},
  // nextboot.conf says kernel="kernel.test" (one boot): config.lua loads /boot/kernel.test/kernel.
  {name: 'arm64-uefi-acpi', arch: 'arm64', kernelAt: '/boot/kernel.test/kernel', memoryRecord: 'EFI_MAP'},
  {name: 'arm64-dtb', arch: 'arm64', kernelAt: '/boot/kernel/kernel', memoryRecord: 'EFI_MAP'},
];

/** A copy of the fixture with a kernel (and modules) where the host would have them. */
function assemble(c: HostCase): string {
  const dir = join(work, c.name);
  cpSync(join(HOSTS, c.name), dir, {recursive: true});
  const kernel = join(dir, 'root', c.kernelAt);
  mkdirSync(dirname(kernel), {recursive: true});
  writeFileSync(kernel, buildFreeBsdKernel({arch: c.arch, version: 1500000}));
  for (const m of c.modules ?? []) writeFileSync(join(dirname(kernel), `${m}.ko`), buildFreeBsdModule({name: m, version: 1}));
  return dir;
}

function kernelMetadata(plan: Plan, arch: 'amd64' | 'arm64'): {md: ReturnType<typeof decodeMetadata>; env: Map<string, string>} {
  assert.equal(plan.handoff.kind, 'freebsd');
  if (plan.handoff.kind !== 'freebsd') throw new Error('not a FreeBSD plan');
  const mem = PhysicalMemory.ofSegments(plan.segments);
  const pre = walkPreload(mem, plan.handoff.metadata);
  const md = decodeMetadata(pre.files[0] as (typeof pre.files)[number], arch);
  assert.ok(md.envp !== undefined, 'the kernel has MODINFOMD_ENVP');
  const envPa = (md.envp + plan.handoff.physOffset) & ((1n << 64n) - 1n);
  return {md, env: new Map(readEnvironment(mem, envPa).vars)};
}

describe('plan --host: each fixture snapshot gets what its loader would hand the kernel', () => {
  for (const c of CASES) {
    test(c.name, async () => {
      const dir = assemble(c);
      const sys = sysctls(readFileSync(join(dir, 'sysctl.txt'), 'utf8'));
      const kenv = quotedAssignments(readFileSync(join(dir, 'kenv'), 'utf8'));
      const host = await readSnapshot(dir);
      const {plan} = await planFiles({modules: [], host});
      const {md, env} = kernelMetadata(plan, c.arch);

      const root = expectedRoot(dir);
      assert.equal(env.get('vfs.root.mountfrom'), root.mountfrom, 'vfs.root.mountfrom as fstab or ZFS gives it');
      if (root.options !== undefined) assert.equal(env.get('vfs.root.mountfrom.options'), root.options);

      const acpiRoot = sys.get('machdep.acpi_root');
      if (acpiRoot !== undefined) {
        assert.equal(BigInt(env.get('acpi.rsdp') ?? 'x'), BigInt(acpiRoot), 'acpi.rsdp is machdep.acpi_root');
        assert.equal(BigInt(env.get('hint.acpi.0.rsdp') ?? 'x'), BigInt(acpiRoot));
      } else {
        assert.ok(!env.has('acpi.rsdp'), 'no ACPI root on this host, none invented');
      }

      let hints = new Map([...kenv].filter(([k]) => k.startsWith('hint.') && !k.startsWith('hint.acpi.')));
      try {
        hints = new Map([...hints, ...quotedAssignments(readFileSync(join(dir, 'root/boot/device.hints'), 'utf8'))]);
      } catch { /* no device.hints on this host */ }
      for (const [k, v] of hints) assert.equal(env.get(k), v, `hint ${k}`);

      assert.equal(env.get('kernelname'), c.kernelAt, 'kernelname is the absolute path the loader loaded');
      assert.ok(env.get('module_path')?.startsWith(`${dirname(c.kernelAt)};`), `module_path starts with the kernel's directory: ${env.get('module_path')}`);

      const files = BINARY_SYSCTL_FILES[c.name] ?? {};
      if (c.arch === 'amd64' && c.memoryRecord === 'EFI_MAP') {
        assert.deepEqual(md.order.includes(MODINFOMD_X86.EFI_MAP) && !md.order.includes(MODINFOMD_X86.SMAP), true, 'EFI_MAP, no SMAP');
        const want = files['machdep.efi_map'] as Uint8Array;
        assert.equal(md.efiMap?.memorySize, new DataView(want.buffer).getBigUint64(0, true));
        assert.equal(md.efiMap?.descriptors.length, Number(new DataView(want.buffer).getBigUint64(0, true) / 48n));
      } else if (c.arch === 'amd64') {
        assert.ok(md.order.includes(MODINFOMD_X86.SMAP) && !md.order.includes(MODINFOMD_X86.EFI_MAP), 'SMAP, no EFI_MAP');
        const x = files['machdep.smap'] as Uint8Array;
        const dv = new DataView(x.buffer, x.byteOffset, x.byteLength);
        const want = Array.from({length: x.length / 24}, (_, i) => ({base: dv.getBigUint64(i * 24, true), length: dv.getBigUint64(i * 24 + 8, true), type: dv.getUint32(i * 24 + 16, true)}));
        assert.deepEqual(md.smap, want, 'the SMAP entries of machdep.smap, without xattr');
      } else {
        assert.ok(md.order.includes(MODINFOMD_ARM64.EFI_MAP), 'arm64 gets an EFI map (its only memory record)');
      }

      const checklist = plan.handoff.kind === 'freebsd' ? plan.handoff.checklist ?? [] : [];
      assert.ok(checklist.length >= 8, `a checklist: ${checklist.map((i) => i.id).join(', ')}`);
      for (const item of checklist) {
        if (item.status === 'present') assert.ok((item.source ?? '') !== '', `${item.id}: present with a source`);
        else assert.ok((item.consequence ?? '').length > 20, `${item.id}: missing with its consequence`);
      }
      const ids = new Set(checklist.map((i) => i.id));
      for (const id of ['memory-map', 'root', 'acpi', 'hints', 'console', 'kernelname', 'module_path']) assert.ok(ids.has(id), `checklist has ${id}`);
      assert.ok(!checklist.some((i) => i.status === 'missing' && i.severity === 'fatal'), 'nothing fatal');
    });
  }
});
