/**
 * The native FreeBSD backend: stages a Plan with kexec_load(2) and boots it with reboot(RB_KEXEC).
 *
 * FreeBSD sources: sys/sys/kexec.h (struct kexec_segment, KEXEC_SEGMENT_MAX = 16, the userland prototype) and
 * sys/kern/kern_kexec.c (sys_kexec_load: securelevel and PRIV_REBOOT; kern_kexec_load: count, EBUSY guard, qsort by
 * mem, bufsz <= memsz and the one-vm_phys_seg rule, copyin of every buf; nseg == 0 drops the staged image; the
 * shutdown_final handler kexec_reboot runs the image when reboot(2)'s howto has RB_KEXEC). The kernel checks little
 * else, and a malformed call can panic it, so every plan is re-validated here against the live memory map.
 *
 * RB_KEXEC is resolved when the image is loaded and kept in the record, so a host whose headers lack it fails at
 * `load`, not at reboot. exec shuts the host down as init(8) and reboot(8) do before reboot(RB_KEXEC)
 * (src/backend/native/clean-exec.ts), unless told to reboot now. koffi is imported lazily
 * (src/backend/native/ffi.ts) by probe/load/unload/exec only.
 * Tests bind a mock library.
 */
import {userInfo} from 'node:os';
import {disarmNextboot} from '../../host/nextboot.js';
import {KexecError, hex} from '../../errors.js';
import {SYSTEM_SYSCTL, type SysctlSource} from '../../host/sysctl.js';
import {runningFirmware} from '../../host/running-firmware.js';
import type {MemoryMap} from '../../memory/memory-map.js';
import {parsePhysSegs} from '../../memory/phys-segs.js';
import {compareBigint} from '../../memory/range.js';
import {segmentBuffer} from '../../plan/segment-bytes.js';
import type {Plan} from '../../plan/types.js';
import {prepareStateDir} from '../staging/lock.js';
import {stagedRecord} from '../staging/staged-record.js';
import {checkPlanForTarget} from '../target-check.js';
import type {Backend, BackendStatus, BootReport, ExecOptions, ProbeResult, StagedRecord, TargetFacts} from '../types.js';
import {FREEBSD_SHUTDOWN_PATHS, cleanExec, describeCleanExec, type CleanExecRequest, type ShutdownPaths, type SystemOps} from './clean-exec.js';
import {syscallError} from './errno.js';
import {bindNative, type FfiSegment, type NativeBinding} from './ffi.js';
import {DEFAULT_REBOOT_HEADER, resolveRbKexec} from './rb-kexec.js';
import {readRecord, removeRecord, writeRecord} from './record.js';

export interface NativeBackendOptions {
  /** Library providing kexec_load and reboot (default on FreeBSD: libsys.so.7, then libc.so.7). */
  readonly library?: string;
  /** Where to read `#define RB_KEXEC` (default /usr/include/sys/reboot.h). */
  readonly rebootHeader?: string;
  /** RB_KEXEC's value; wins over the header. */
  readonly rbKexec?: number | bigint;
  /** A memory map (from --memmap or the config) instead of `sysctl -n vm.phys_segs`. */
  readonly memoryMap?: MemoryMap;
  /** Where the staged-image record (staged.json) lives. */
  readonly recordDir: string;
  /** Where hw.pagesize, vm.phys_segs and the firmware tables are read (default: /sbin/sysctl on this host). */
  readonly sysctl?: SysctlSource;
  /** The programs of the clean exec (default: FreeBSD's, by absolute path). */
  readonly shutdownPaths?: ShutdownPaths;
  /** What the clean exec does to the system (default: the real thing, src/backend/native/system-ops.ts). */
  readonly systemOps?: SystemOps;
}

/** FreeBSD's name for the architecture node runs on (x64 -> amd64). */
export function hostArch(arch: string = process.arch): string {
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? 'i386' : arch;
}

/** Who asks for the reboot, for syslog (reboot.c logs getlogin() or the uid's name). */
function userName(): string {
  try {
    return userInfo().username;
  } catch {
    return `uid${String(process.getuid?.() ?? '?')}`;
  }
}

const SYSCTL_PHYS_SEGS = 'sysctl -n vm.phys_segs';

function describeLoad(entry: bigint, nseg: number, flags: bigint): string {
  return `kexec_load(entry=${hex(entry)}, nseg=${nseg}, flags=${flags.toString()})`;
}

export class NativeBackend implements Backend {
  readonly name = 'native' as const;
  readonly options: NativeBackendOptions;

  constructor(options: NativeBackendOptions) {
    this.options = options;
  }

  private binding(): Promise<NativeBinding> {
    return bindNative(this.options.library);
  }

  async probe(): Promise<ProbeResult> {
    const arch = hostArch();
    try {
      const b = await this.binding();
      const pageSize = await this.pageSize();
      return {backend: 'native', available: true, arch, ...(pageSize === undefined ? {} : {pageSize}), reason: `kexec_load bound from ${b.library}`};
    } catch (e) {
      const reason = e instanceof KexecError ? e.message : String(e);
      return {backend: 'native', available: false, arch, reason};
    }
  }

  /** hw.pagesize on FreeBSD (undefined elsewhere or when sysctl fails: the probe still succeeds). */
  private get sysctl(): SysctlSource {
    return this.options.sysctl ?? SYSTEM_SYSCTL;
  }

  private async pageSize(): Promise<bigint | undefined> {
    if (process.platform !== 'freebsd' && this.options.sysctl === undefined) return undefined;
    const text = await this.sysctl.text('hw.pagesize');
    return text !== undefined && /^\d+$/.test(text.trim()) ? BigInt(text.trim()) : undefined;
  }

  private async memoryMap(): Promise<MemoryMap> {
    if (this.options.memoryMap !== undefined) return this.options.memoryMap;
    const text = await this.sysctl.text('vm.phys_segs');
    if (text === undefined) {
      throw new KexecError('backend', `backend native: cannot read the memory map: \`${SYSCTL_PHYS_SEGS}\` failed`, {
        reason: 'memory-map-unavailable',
        hint: 'run on the FreeBSD target, or give a memory map file (config key memmap, or --memmap)',
      });
    }
    return parsePhysSegs(text, SYSCTL_PHYS_SEGS);
  }

  /** This host: its architecture, hw.pagesize (4 KiB when it cannot be read), vm.phys_segs and firmware tables. */
  async target(): Promise<TargetFacts> {
    const onHost = process.platform === 'freebsd' || this.options.sysctl !== undefined;
    const [pageSize, memoryMap, firmware] = await Promise.all([this.pageSize(), this.memoryMap(), onHost ? runningFirmware(this.sysctl.binary) : undefined]);
    return {
      arch: hostArch(), pageSize: pageSize ?? 0x1000n, memoryMap, source: 'this host',
      ...(firmware === undefined ? {} : {firmware}),
    };
  }

  async load(plan: Plan): Promise<StagedRecord> {
    const howto = await resolveRbKexec(this.options.rbKexec, this.options.rebootHeader ?? DEFAULT_REBOOT_HEADER);
    checkPlanForTarget('native', plan, await this.target());
    const sorted = [...plan.segments].sort((a, b) => compareBigint(a.mem, b.mem));
    const segments: FfiSegment[] = sorted.map((s) => {
      const buf = s.bufsz === 0n ? null : segmentBuffer(s);
      if (buf !== null && BigInt(buf.length) !== s.bufsz) {
        throw new KexecError('internal', `backend native: segment at ${hex(s.mem)} has ${buf.length} bytes, bufsz is ${hex(s.bufsz)}`);
      }
      return {buf, bufsz: s.bufsz, mem: s.mem, memsz: s.memsz};
    });
    // The record directory is checked (and made) before the kernel holds an image we could not record.
    prepareStateDir(this.options.recordDir);
    const b = await this.binding();
    const call = describeLoad(plan.entry, segments.length, plan.flags);
    const r = b.kexecLoad(plan.entry, segments, plan.flags);
    if (r.rc !== 0) {
      throw syscallError(call, r.errno, 'kexec_load', {library: b.library, digest: plan.digest});
    }
    const record = stagedRecord('native', plan, {rbKexec: hex(howto >>> 0)});
    await writeRecord(this.options.recordDir, record);
    return record;
  }

  async unload(): Promise<void> {
    const b = await this.binding();
    const r = b.kexecLoad(0n, [], 0n);
    if (r.rc !== 0) throw syscallError(describeLoad(0n, 0, 0n), r.errno, 'kexec_load', {library: b.library});
    await removeRecord(this.options.recordDir);
  }

  async status(): Promise<BackendStatus> {
    return {backend: 'native', staged: await readRecord(this.options.recordDir), booted: null, stateDir: this.options.recordDir};
  }

  /** The record and RB_KEXEC an exec would use. Refuses (exit 7) when nothing is recorded, unless forced. */
  private async execTarget(options: ExecOptions): Promise<{record: StagedRecord | null; howto: number}> {
    const record = await readRecord(this.options.recordDir);
    if (record === null && options.force !== true) {
      throw new KexecError('nothingStaged', `backend native: nothing is recorded as staged in ${this.options.recordDir}; reboot(RB_KEXEC) with no staged image reboots normally`, {
        reason: 'nothing-staged',
        hint: 'load an image first (`kexec-ts load`), or pass --force to reboot(RB_KEXEC) anyway',
      });
    }
    // The value resolved when the image was loaded; only a forced exec with no record looks it up now.
    const howto = record?.rbKexec !== undefined
      ? Number(BigInt.asIntN(32, BigInt(record.rbKexec)))
      : await resolveRbKexec(this.options.rbKexec, this.options.rebootHeader ?? DEFAULT_REBOOT_HEADER);
    return {record, howto};
  }

  private async cleanRequest(record: StagedRecord | null, howto: number): Promise<{request: CleanExecRequest; ops: SystemOps}> {
    const ops = this.options.systemOps ?? (await import('./system-ops.js')).SYSTEM_OPS;
    const [kernel, ...modules] = record?.files ?? ['(nothing recorded: a normal reboot)'];
    const user = process.env.SUDO_USER ?? process.env.USER ?? process.env.LOGNAME ?? userName();
    return {ops, request: {howto, kernel: kernel ?? '?', modules, digest: record?.digest ?? '-', user, paths: this.options.shutdownPaths ?? FREEBSD_SHUTDOWN_PATHS}};
  }

  async describeExec(options: ExecOptions): Promise<string[]> {
    const {record, howto} = await this.execTarget(options);
    if (options.now === true) {
      return [`reboot(${hex(howto >>> 0)}) now: no rc.shutdown, processes are not terminated first (the kernel still syncs the disks)`];
    }
    const {request, ops} = await this.cleanRequest(record, howto);
    const steps = (await describeCleanExec(request, ops)).map((s) => `${s.id}: ${s.action}`);
    if (record?.nextboot !== undefined) steps.splice(steps.length - 1, 0, `nextboot: disable ${record.nextboot} as the loader would, just before reboot()`);
    return steps;
  }

  /**
   * The clean shutdown then reboot(RB_KEXEC), or with `now` the reboot alone: does not return on success. The
   * library is bound before anything is stopped, so a host that cannot reboot(RB_KEXEC) is told so while its
   * services still run.
   */
  async exec(options: ExecOptions): Promise<BootReport> {
    const {record, howto} = await this.execTarget(options);
    const b = await this.binding();
    const reboot = async (): Promise<never> => {
      if (record?.nextboot !== undefined) await disarmBeforeReboot(record.nextboot);
      const call = `reboot(howto=${hex(howto >>> 0)})`;
      const r = b.reboot(howto);
      if (r.rc === -1) throw syscallError(call, r.errno, 'reboot', {library: b.library});
      throw new KexecError('backend', `backend native: ${call} returned ${r.rc} instead of rebooting`, {
        reason: 'reboot-returned',
        details: {syscall: call, library: b.library, rc: r.rc},
      });
    };
    if (options.now === true) return reboot();
    if (this.options.systemOps === undefined && process.platform !== 'freebsd') {
      // kill(-1, SIGTERM) on a machine that is not the FreeBSD host it was meant for would end every process of
      // this user (a test bench, a CI runner): the real shutdown runs only on FreeBSD.
      throw new KexecError('backend', `backend native: the clean shutdown before reboot(RB_KEXEC) runs only on FreeBSD (this is ${process.platform}); nothing was stopped`, {
        reason: 'clean-exec-not-freebsd',
        hint: 'exec --dry-run lists the steps; exec --now calls reboot(RB_KEXEC) alone',
      });
    }
    const {request, ops} = await this.cleanRequest(record, howto);
    return cleanExec(request, ops, reboot);
  }
}

/**
 * The plan used nextboot.conf: disable it as the loader would have (src/host/nextboot.ts). This runs at the last
 * moment, when the machine is committed to rebooting; a failure is reported and does not stop the reboot (the
 * consequence, the one-shot configuration being used once more on the next firmware boot, is named).
 */
async function disarmBeforeReboot(path: string): Promise<void> {
  try {
    await disarmNextboot(path);
  } catch (e) {
    process.stderr.write(`kexec-ts: warning: ${e instanceof Error ? e.message : String(e)}; the next firmware reboot will use it again\n`);
  }
}
