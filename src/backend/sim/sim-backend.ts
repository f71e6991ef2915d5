/**
 * The simulated memory machine as a Backend: a persistent model of one machine (machine.json), at most one
 * staged image (the staging store: an fsynced generation behind the `current` symlink) and the image it last
 * booted (booted.json). load applies the FreeBSD kernel's checks in kern_kexec.c order with its errno names, then
 * the man page's; exec copies the staged bytes into a sparse physical memory and verifies and decodes them. Every
 * mutating operation holds STATEDIR/lock, reads the machine under it and changes nothing unless it succeeds, so
 * two concurrent loads give one EBUSY, a killed load is cleaned up later, and a failed or dry-run load leaves the
 * machine as it was.
 */
import type {Backend, BackendStatus, BootReport, ExecOptions, ProbeResult, StagedRecord, TargetFacts} from '../types.js';
import {KexecError} from '../../errors.js';
import type {MemoryMap} from '../../memory/memory-map.js';
import type {MachineProfile} from '../../memory/profiles.js';
import type {Plan} from '../../plan/types.js';
import {withStateLock, type LockOperation} from '../staging/lock.js';
import {stagedRecord} from '../staging/staged-record.js';
import {StateStore} from '../staging/state-store.js';
import {bootStaged} from './boot.js';
import {checkMachineDependent, checkManPage, checkPrivilege, checkSegmentCount, checkSegments, kexecLoadCall} from './kernel-checks.js';
import {openMachine, saveMachine, type Machine} from './machine.js';

export interface SimBackendOptions {
  readonly stateDir: string;
  /** The machine to model (applied over machine.json for this run; saved by a successful load). */
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
    this.store = new StateStore(options.stateDir, 'sim');
  }

  /** The machine as stored, with this run's options applied (nothing is written). */
  machine(): Machine {
    return openMachine(this.stateDir, this.options).machine;
  }

  async probe(): Promise<ProbeResult> {
    const m = this.machine();
    return {backend: 'sim', available: true, arch: m.arch, pageSize: m.pageSize};
  }

  async target(): Promise<TargetFacts> {
    const m = this.machine();
    return {arch: m.arch, pageSize: m.pageSize, memoryMap: m.memoryMap, source: `the simulated machine in ${this.stateDir}`};
  }

  async load(plan: Plan): Promise<StagedRecord> {
    const call = kexecLoadCall(plan);
    checkPrivilege(this.machine(), call);
    checkSegmentCount(plan, call);
    return this.locked('load', () => {
      const {machine, changed} = openMachine(this.stateDir, this.options);
      checkPrivilege(machine, call);
      checkSegments(plan, machine, call);
      checkMachineDependent(plan, machine, call);
      checkManPage(plan, machine, call);
      const staged = this.store.stage(plan, stagedRecord('sim', plan)).record;
      if (changed) saveMachine(this.stateDir, machine);
      return staged;
    });
  }

  /** kexec_load with no segments: drops the staged image. */
  async unload(): Promise<void> {
    const call = kexecLoadCall(undefined);
    checkPrivilege(this.machine(), call);
    await this.locked('unload', () => {
      this.store.clearStaged();
      this.store.clearCorruptBooted();
    });
  }

  async status(): Promise<BackendStatus> {
    return {backend: 'sim', staged: this.store.current()?.record ?? null, booted: this.store.booted(), stateDir: this.stateDir};
  }

  async exec(options: ExecOptions): Promise<BootReport> {
    checkPrivilege(this.machine(), REBOOT_CALL, false);
    return this.locked('exec', () => {
      const machine = this.machine();
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
  private locked<T>(operation: LockOperation, fn: () => T): Promise<T> {
    return withStateLock(this.stateDir, operation, () => this.store.cleanStrays(), fn);
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
