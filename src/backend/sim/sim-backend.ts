/**
 * The simulated memory machine as a Backend: a persistent model of one machine (machine.json), at most one
 * staged image (an fsynced generation behind the `current` symlink) and the image it last booted (booted.json).
 * load applies the FreeBSD kernel's checks in kern_kexec.c order with its errno names, then the man page's;
 * exec copies the staged bytes into a sparse physical memory and verifies and decodes them. Every mutating
 * operation holds STATEDIR/lock, so two concurrent loads give one EBUSY and a killed load is cleaned up later.
 */
import type {Backend, BackendStatus, BootReport, ExecOptions, ProbeResult, StagedRecord} from '../types.js';
import {KexecError, hex} from '../../errors.js';
import type {MemoryMap} from '../../plan/memory-map.js';
import type {MachineProfile} from '../../plan/profiles.js';
import type {Plan} from '../../plan/types.js';
import {bootStaged} from './boot.js';
import {checkMachineDependent, checkManPage, checkPrivilege, checkSegmentCount, checkSegments, kexecLoadCall} from './kernel-checks.js';
import {acquireLock} from './lock.js';
import {openMachine, type Machine} from './machine.js';
import {StateStore} from './state-store.js';

export interface SimBackendOptions {
  readonly stateDir: string;
  /** The machine to model (stored in machine.json on first use; a later value replaces the stored one). */
  readonly profile?: MachineProfile;
  /** RAM ranges overriding the profile's (a --memmap file). */
  readonly memoryMap?: MemoryMap;
  /** Whether the caller is root (default true): false makes load, unload and exec fail with EPERM. */
  readonly privileged?: boolean;
  /** kern.securelevel (default -1): above 0, kexec_load fails with EPERM. */
  readonly securelevel?: number;
}

const REBOOT_CALL = 'reboot(RB_KEXEC)';

export class SimBackend implements Backend {
  readonly name = 'sim' as const;
  readonly stateDir: string;
  private readonly store: StateStore;

  constructor(private readonly options: SimBackendOptions) {
    this.stateDir = options.stateDir;
    this.store = new StateStore(options.stateDir);
  }

  /** The machine as stored, with this backend's options applied (and saved). */
  machine(): Machine {
    return openMachine(this.stateDir, this.options);
  }

  async probe(): Promise<ProbeResult> {
    const m = this.machine();
    return {backend: 'sim', available: true, arch: m.arch, pageSize: m.pageSize};
  }

  async memoryMap(): Promise<MemoryMap> {
    return this.machine().memoryMap;
  }

  async load(plan: Plan): Promise<StagedRecord> {
    const machine = this.machine();
    const call = kexecLoadCall(plan);
    checkPrivilege(machine, call);
    checkSegmentCount(plan, call);
    return this.locked(() => {
      checkSegments(plan, machine, call);
      checkMachineDependent(plan, machine, call);
      checkManPage(plan, machine, call);
      const record: StagedRecord = {
        backend: 'sim',
        digest: plan.digest,
        kind: plan.kind,
        arch: plan.arch,
        entry: hex(plan.entry),
        files: [...plan.files],
        segments: plan.segments.length,
        memsz: hex(plan.segments.reduce((n, s) => n + s.memsz, 0n)),
        stagedAt: new Date().toISOString(),
      };
      return this.store.stage(plan, record).record;
    });
  }

  /** kexec_load with no segments: drops the staged image. */
  async unload(): Promise<void> {
    const machine = this.machine();
    const call = kexecLoadCall(undefined);
    checkPrivilege(machine, call);
    this.locked(() => this.store.clearStaged());
  }

  async status(): Promise<BackendStatus> {
    this.machine();
    return {backend: 'sim', staged: this.store.current()?.record ?? null, booted: this.store.booted(), stateDir: this.stateDir};
  }

  async exec(options: ExecOptions): Promise<BootReport> {
    const machine = this.machine();
    checkPrivilege(machine, REBOOT_CALL, false);
    return this.locked(() => {
      const gen = this.store.current();
      if (gen === undefined) {
        if (options.force !== true) {
          throw new KexecError('nothingStaged', `sim: nothing is staged in ${this.stateDir}: exec would reboot normally`, {
            reason: 'nothing-staged',
            hint: 'load an image first, or use --force to reboot the simulated machine normally',
          });
        }
        this.store.writeBooted(null);
        return normalReboot();
      }
      const {report, kernel} = bootStaged(this.store, gen, machine);
      this.store.writeBooted({digest: report.digest, kernel, bootedAt: new Date().toISOString()});
      this.store.clearStaged();
      return report;
    });
  }

  /** Runs `fn` holding STATEDIR/lock, after removing what interrupted operations left behind. */
  private locked<T>(fn: () => T): T {
    const lock = acquireLock(this.stateDir);
    try {
      this.store.cleanStrays();
      return fn();
    } finally {
      lock.release();
    }
  }
}

function normalReboot(): BootReport {
  return {
    backend: 'sim',
    digest: '',
    entry: '',
    segmentsVerified: 0,
    handoff: {kexec: false, reboot: 'normal'},
    lines: [
      'backend: sim',
      'nothing staged: reboot(RB_KEXEC) finds no image, so the simulated machine reboots normally',
      '(firmware, loader and the installed kernel; no kexec hand-off)',
    ],
  };
}
