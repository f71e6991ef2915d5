/**
 * The QEMU backend: stages a plan in the shared staging store (plan.json + segment-NN.bin, locked and crash-safe,
 * exactly as the simulated machine does) and execs it by booting the staged bytes on an emulated CPU in the state
 * FreeBSD 16's kexec leaves (arm64: EL1, MMU off, at the entry; amd64: long mode with 0-4 GiB identity-mapped,
 * through examples/qemu-shim). The guest is expected to be the probe kernel (examples/probe-kernel), whose
 * console report is checked against the plan (probe-verdict.ts). A successful exec, like a real kexec reboot,
 * leaves nothing staged and records what booted; a failed one keeps the staged image for another try. The planner
 * must plan against target(): QEMU's RAM, not a real machine's.
 */
import {existsSync} from 'node:fs';
import type {Backend, BackendStatus, BootReport, ExecOptions, ProbeResult, StagedRecord, TargetFacts} from '../types.js';
import {KexecError, hex} from '../../errors.js';
import type {Plan} from '../../plan/types.js';
import {withStateLock, type LockOperation} from '../staging/lock.js';
import {stagedRecord} from '../staging/staged-record.js';
import {StateStore} from '../staging/state-store.js';
import {checkPlanForTarget} from '../target-check.js';
import {findExecutable} from './find-executable.js';
import {checkBootable} from './preflight.js';
import {judgeRun} from './probe-verdict.js';
import {qemuCommand} from './qemu-command.js';
import {QEMU_ARCHES, QEMU_MACHINES, defaultShimPath, describeMachine, type QemuArch, type QemuMachine} from './qemu-machines.js';
import {runQemu} from './qemu-run.js';
import {readStagedImage} from './staged-image.js';

export interface QemuBackendOptions {
  readonly stateDir: string;
  readonly arch: QemuArch;
  /** How long a boot may take before QEMU is killed (default 60 s). */
  readonly timeoutMs?: number;
  /** The QEMU binary (a name on PATH or a path); default qemu-system-x86_64 / qemu-system-aarch64. */
  readonly qemuBinary?: string;
  /** amd64: the multiboot shim; default examples/qemu-shim/shim.elf of this checkout. */
  readonly shim?: string;
  /** How long QEMU may run on after the probe's verdict (default 3 s). */
  readonly graceMs?: number;
}

export const DEFAULT_QEMU_TIMEOUT_MS = 60000;

export class QemuBackend implements Backend {
  readonly name = 'qemu' as const;
  readonly stateDir: string;
  readonly machine: QemuMachine;
  private readonly store: StateStore;
  private readonly timeoutMs: number;
  private readonly shim: string;

  constructor(private readonly options: QemuBackendOptions) {
    if (!QEMU_ARCHES.includes(options.arch)) {
      throw new KexecError('usage', `qemu: unknown architecture ${JSON.stringify(options.arch)} (known: ${QEMU_ARCHES.join(', ')})`, {reason: 'usage'});
    }
    if (options.timeoutMs !== undefined && !(Number.isFinite(options.timeoutMs) && options.timeoutMs > 0)) {
      throw new KexecError('usage', `qemu: the timeout must be a positive number of milliseconds, not ${options.timeoutMs}`, {reason: 'usage'});
    }
    this.stateDir = options.stateDir;
    this.machine = QEMU_MACHINES[options.arch];
    this.store = new StateStore(options.stateDir, 'qemu');
    this.timeoutMs = options.timeoutMs ?? DEFAULT_QEMU_TIMEOUT_MS;
    this.shim = options.shim ?? defaultShimPath();
  }

  private get binary(): string {
    return this.options.qemuBinary ?? this.machine.binary;
  }

  async probe(): Promise<ProbeResult> {
    const base = {backend: 'qemu' as const, arch: this.machine.arch, pageSize: this.machine.profile.pageSize};
    if (findExecutable(this.binary) === undefined) {
      return {...base, available: false, reason: `${this.binary} not found (Debian package ${this.machine.debianPackage})`};
    }
    if (this.machine.arch === 'amd64' && !existsSync(this.shim)) {
      return {...base, available: false, reason: `the amd64 shim ${this.shim} is missing (build it with examples/qemu-shim/build.sh)`};
    }
    return {...base, available: true};
  }

  async target(): Promise<TargetFacts> {
    const p = this.machine.profile;
    return {arch: this.machine.arch, pageSize: p.pageSize, memoryMap: p.memoryMap, source: `the emulated machine (${describeMachine(this.machine)})`};
  }

  async load(plan: Plan): Promise<StagedRecord> {
    checkBootable(plan, this.machine);
    checkPlanForTarget('qemu', plan, await this.target());
    return this.locked('load', () => this.store.stage(plan, stagedRecord('qemu', plan)).record);
  }

  async unload(): Promise<void> {
    await this.locked('unload', () => {
      this.store.clearStaged();
      this.store.clearCorruptBooted();
    });
  }

  async status(): Promise<BackendStatus> {
    return {backend: 'qemu', staged: this.store.current()?.record ?? null, booted: this.store.booted(), stateDir: this.stateDir};
  }

  async exec(_options: ExecOptions): Promise<BootReport> {
    return this.locked('exec', () => this.boot());
  }

  /** Runs `fn` holding STATEDIR/lock, after removing what interrupted operations left behind. */
  private locked<T>(operation: LockOperation, fn: () => T | Promise<T>): Promise<T> {
    return withStateLock(this.stateDir, operation, () => this.store.cleanStrays(), fn);
  }

  /** Under the lock: boots the staged generation and judges the probe's report. */
  private async boot(): Promise<BootReport> {
    const gen = this.store.current();
    if (gen === undefined) {
      throw new KexecError('nothingStaged', `qemu: nothing is staged in ${this.stateDir}: there is nothing to boot`, {
        reason: 'nothing-staged',
        hint: 'load an image with --backend qemu first (a QEMU machine has no installed kernel to fall back to)',
      });
    }
    const plan = this.store.readPlan(gen);
    checkBootable(plan, this.machine);
    const staged = readStagedImage(plan, (i) => this.store.segmentPath(gen, i));
    const inv = qemuCommand({
      machine: this.machine, entry: plan.entry, ...(this.options.qemuBinary === undefined ? {} : {binary: this.options.qemuBinary}),
      ...(this.machine.arch === 'amd64' ? {shim: this.shim} : {}),
      blobs: staged.segments.filter((s) => s.bufsz > 0n).map((s) => ({file: s.file, addr: s.mem})),
    });
    const run = await runQemu(inv, {timeoutMs: this.timeoutMs, ...(this.options.graceMs === undefined ? {} : {graceMs: this.options.graceMs})});
    const verdict = judgeRun(run, plan, staged, this.timeoutMs);
    const kernel = plan.files[0] ?? '(unnamed image)';
    this.store.writeBooted({digest: plan.digest, kernel, bootedAt: new Date().toISOString()});
    this.store.clearStaged();
    const t = verdict.transcript;
    return {
      backend: 'qemu',
      digest: plan.digest,
      entry: hex(plan.entry),
      segmentsVerified: staged.segments.length,
      handoff: {
        kind: 'qemu-probe',
        machine: describeMachine(this.machine),
        probe: {
          arch: t.begin?.arch ?? null,
          modulep: t.begin === undefined ? null : hex(t.begin.modulep),
          kernend: t.kernend === undefined ? null : hex(t.kernend),
          howto: t.howto === undefined ? null : hex(t.howto),
          files: t.files.map((f) => ({name: f.name, type: f.type, addr: hex(f.addr), size: hex(f.size), crc32: hex(f.crc32)})),
          env: Object.fromEntries(t.env),
          root: [...t.root],
          acpi: t.acpi === undefined ? null : t.acpi === null ? 'invalid' : hex(t.acpi),
          hints: Object.fromEntries(t.hints),
          memmap: t.memmap === undefined ? null : {...t.memmap, type: hex(t.memmap.type), size: hex(t.memmap.size), crc32: hex(t.memmap.crc32)},
          fwHandle: t.fwHandle === undefined ? null : hex(t.fwHandle),
        },
        qemu: {command: run.command, exitCode: run.exitCode, signal: run.signal, durationMs: run.durationMs},
      },
      lines: [
        ...(run.droppedLines > 0 ? [`(${run.droppedLines} earlier console lines not kept)`] : []),
        ...run.lines,
        verdict.line,
      ],
    };
  }
}

/** The QEMU backend for one emulated machine: arm64 (virt, 2 GiB) or amd64 (pc, 1 GiB, through qemu-shim). */
export function createQemuBackend(options: QemuBackendOptions): QemuBackend {
  return new QemuBackend(options);
}
