/**
 * The checks FreeBSD's kexec_load(2) makes, in sys_kexec_load / kern_kexec_load order, each failing with the
 * errno the kernel returns (exit 5, reason = the errno name), followed by the man page's stricter rules from the
 * shared validator, which the kernel does not check but which keep a real kernel from panicking. The caller takes
 * the lock (EBUSY) between the segment count and the per-segment checks, as kern_kexec_load does.
 */
import {KexecError, hex} from '../../errors.js';
import {planViolations} from '../../plan/validate.js';
import {KEXEC_ARCHES} from '../../image/freebsd/constants.js';
import {KEXEC_SEGMENT_MAX, type Plan} from '../../plan/types.js';
import type {Machine} from './machine.js';


export type Errno = 'EPERM' | 'EINVAL' | 'EBUSY' | 'ENOSYS';

/** How the call would look in C, for messages: kexec_load(entry, nseg, segments, flags). */
export function kexecLoadCall(plan: Pick<Plan, 'entry' | 'segments' | 'flags'> | undefined): string {
  if (plan === undefined) return 'kexec_load(0, 0, NULL, 0)';
  return `kexec_load(${hex(plan.entry)}, ${plan.segments.length}, segments, ${hex(plan.flags)})`;
}

function errnoError(errno: Errno, call: string, message: string, details: Record<string, unknown> = {}, hint?: string): KexecError {
  return new KexecError('backend', `sim: ${call} = ${errno}: ${message}`, {
    reason: errno,
    details: {errno, ...details},
    ...(hint === undefined ? {} : {hint}),
  });
}

/** sys_kexec_load (and reboot(2) for exec): securelevel_gt(cred, 0), then priv_check(PRIV_REBOOT). */
export function checkPrivilege(machine: Machine, call: string, needsSecurelevel = true): void {
  if (needsSecurelevel && machine.securelevel > 0) {
    throw errnoError('EPERM', call, `securelevel is ${machine.securelevel} (kexec_load needs kern.securelevel <= 0)`, {
      securelevel: machine.securelevel,
    });
  }
  if (!machine.privileged) throw errnoError('EPERM', call, 'not root (priv_check(PRIV_REBOOT) failed)');
}

/** kern_kexec_load step 1: nseg > KEXEC_SEGMENT_MAX. */
export function checkSegmentCount(plan: Pick<Plan, 'segments'>, call: string): void {
  if (plan.segments.length > KEXEC_SEGMENT_MAX) {
    throw errnoError('EINVAL', call, `${plan.segments.length} segments, more than KEXEC_SEGMENT_MAX (${KEXEC_SEGMENT_MAX})`);
  }
}

/**
 * After qsort by mem: EINVAL when bufsz > memsz or segment_fits() finds no vm_phys_seg with
 * `start <= mem && mem + memsz - 1 <= end` (the kernel's comparison, end being the seg's exclusive end).
 */
export function checkSegments(plan: Pick<Plan, 'segments'>, machine: Machine, call: string): void {
  const sorted = plan.segments.map((s, index) => ({s, index})).sort((a, b) => (a.s.mem < b.s.mem ? -1 : a.s.mem > b.s.mem ? 1 : 0));
  const ram = machine.memoryMap.ranges.filter((r) => r.type === 'ram').map((r) => r.range);
  for (const {s, index} of sorted) {
    const name = `segment ${index} [${hex(s.mem)}, ${hex(s.mem + s.memsz)})`;
    if (s.bufsz > s.memsz) {
      throw errnoError('EINVAL', call, `${name}: bufsz ${hex(s.bufsz)} is larger than memsz ${hex(s.memsz)}`, {segment: index});
    }
    const fits = ram.some((r) => r.start <= s.mem && s.mem + s.memsz - 1n <= r.end);
    if (!fits) {
      const where = `${name}: not inside one physical segment (vm.phys_segs) of ${machine.memoryMap.source}`;
      throw errnoError('EINVAL', call, where, {segment: index}, 'plan against this machine\'s memory map (the same --profile or --memmap)');
    }
  }
}

/** kexec_load_md: ENOSYS on architectures whose kexec.h is a stub. */
export function checkMachineDependent(plan: Pick<Plan, 'arch'>, machine: Machine, call: string): void {
  for (const arch of machine.arch === 'any' ? [plan.arch] : [machine.arch, plan.arch]) {
    if (!(KEXEC_ARCHES as readonly string[]).includes(arch)) {
      throw errnoError('ENOSYS', call, `kexec_load_md returns ENOSYS on ${arch} (kexec is implemented on ${KEXEC_ARCHES.join(' and ')} only)`, {
        arch,
      });
    }
  }
}

/** The man page's rules (page alignment to the machine's page size, no overlap, entry inside, flags 0, ...). */
export function checkManPage(plan: Pick<Plan, 'segments' | 'entry' | 'flags'>, machine: Machine, call: string): void {
  const v = planViolations({...plan, pageSize: machine.pageSize}, machine.memoryMap);
  const first = v[0];
  if (first === undefined) return;
  const more = v.length > 1 ? ` (and ${v.length - 1} more)` : '';
  throw errnoError('EINVAL', call, `${first.message}${more}`, {rule: first.rule, violations: v});
}
