/**
 * The backend interface, like FreeBSD's arch_switch: one table of operations that the native FreeBSD syscall
 * backend, the simulated machine and the QEMU backend each implement. Backends execute plans; they never
 * re-plan. Every backend runs the shared validator (src/plan/validate.ts) before it stages anything.
 */
import type {MemoryMap} from '../memory/memory-map.js';
import type {RunningFirmware} from '../host/running-firmware.js';
import type {FieldDigests} from '../plan/digest.js';
import type {Plan} from '../plan/types.js';

export type BackendName = 'native' | 'sim' | 'qemu';

export interface ProbeResult {
  readonly backend: BackendName;
  /** False when this backend cannot run here (not FreeBSD, kexec_load not bound, ...). */
  readonly available: boolean;
  readonly reason?: string;
  /** Architecture of the machine the backend drives (amd64, arm64, ...). */
  readonly arch?: string;
  readonly pageSize?: bigint;
}

/** What was staged, as recorded after a successful load (FreeBSD offers no "is an image staged" query). */
export interface StagedRecord {
  readonly backend: BackendName;
  readonly digest: string;
  /** The plan's field digests (src/plan/digest.ts), to name what changed in a staged plan. */
  readonly fields: FieldDigests;
  readonly kind: string;
  readonly arch: string;
  readonly entry: string;
  readonly files: readonly string[];
  readonly segments: number;
  /** Bytes the segments occupy in memory (sum of memsz), as a hex string. */
  readonly memsz: string;
  /** ISO 8601 time of the load. */
  readonly stagedAt: string;
  /** Native: the RB_KEXEC howto bit resolved at load time (0x… hex), which exec passes to reboot(2). */
  readonly rbKexec?: string;
  /** The nextboot.conf the plan used (its checklist says so), disabled at exec as the loader would after use. */
  readonly nextboot?: string;
}

/** The machine "booted" by exec (simulated machine only). */
export interface BootRecord {
  readonly digest: string;
  readonly kernel: string;
  readonly bootedAt: string;
}

export interface BackendStatus {
  readonly backend: BackendName;
  readonly staged: StagedRecord | null;
  readonly booted: BootRecord | null;
  /** Where state lives (sim: state directory; native: record directory). */
  readonly stateDir?: string;
}

export interface ExecOptions {
  /** Exec even when nothing is recorded as staged (native: reboot(RB_KEXEC) then reboots normally). */
  readonly force?: boolean;
  /** Native: reboot(RB_KEXEC) at once, skipping the clean shutdown (src/backend/native/clean-exec.ts). */
  readonly now?: boolean;
}

/** The boot report of the simulated machine (and of QEMU): what the new kernel would find. */
export interface BootReport {
  readonly backend: BackendName;
  readonly digest: string;
  readonly entry: string;
  readonly segmentsVerified: number;
  /** Plain, JSON-ready description of what the new code found (FreeBSD: files, env, howto; generic: entry and regions). */
  readonly handoff: Record<string, unknown>;
  readonly lines: readonly string[];
}

/**
 * What a backend knows of the machine it would boot: the planner plans against these unless told otherwise.
 * Native: this host (hostArch, hw.pagesize, vm.phys_segs and the firmware tables its kernel exports); sim: the
 * simulated machine; qemu: the emulated one.
 */
export interface TargetFacts {
  /** amd64, arm64, ..., or 'any' (a generic simulated machine runs whatever it is given). */
  readonly arch: string;
  readonly pageSize: bigint;
  readonly memoryMap: MemoryMap;
  /** The running system's firmware memory description, to hand the next kernel (native only). */
  readonly firmware?: RunningFirmware;
  /** Where the facts came from, for messages. */
  readonly source: string;
}

export interface Backend {
  readonly name: BackendName;
  probe(): Promise<ProbeResult>;
  /** The machine a plan is for (native: this host; sim: the simulated machine; qemu: the emulated one). */
  target(): Promise<TargetFacts>;
  /** Validates and stages a plan, replacing any previously staged image. */
  load(plan: Plan): Promise<StagedRecord>;
  /** Drops the staged image (a load of zero segments). */
  unload(): Promise<void>;
  status(): Promise<BackendStatus>;
  /** Boots the staged image. The native backend does not return on success. */
  exec(options: ExecOptions): Promise<BootReport>;
  /** The steps exec would take, for `exec --dry-run` (backends with no steps of their own leave it out). */
  describeExec?(options: ExecOptions): Promise<string[]>;
}
