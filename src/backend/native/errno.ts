/**
 * errno of a failed kexec_load(2) or reboot(2), turned into one KexecError that names the backend, the call with
 * its arguments, the errno name and what it means here. The meanings come from FreeBSD sys/kern/kern_kexec.c
 * (sys_kexec_load: securelevel and PRIV_REBOOT -> EPERM; kern_kexec_load: nseg > KEXEC_SEGMENT_MAX, bufsz > memsz
 * or a segment outside every vm_phys_seg -> EINVAL, a concurrent load -> EBUSY; kexec_load_md -> ENOSYS on
 * architectures without kexec) and sys/sys/kexec.h. Numbers are named with the running platform's
 * os.constants.errno (FreeBSD: EPERM 1, ENOMEM 12, EFAULT 14, EBUSY 16, EINVAL 22, ENOSYS 78).
 */
import {constants} from 'node:os';
import {KexecError, type ExitCodeName} from '../../errors.js';

const PREFERRED = ['EAGAIN', 'EOPNOTSUPP'];

/** The errno name of `n` on this platform (EPERM, ...), or undefined when the platform has none. */
export function errnoName(n: number): string | undefined {
  const names = Object.entries(constants.errno).filter(([, v]) => v === n).map(([k]) => k);
  return names.find((k) => PREFERRED.includes(k)) ?? names[0];
}

interface Meaning {
  readonly text: string;
  readonly hint?: string;
  readonly code?: ExitCodeName;
}

const KEXEC_LOAD: Readonly<Record<string, Meaning>> = {
  EPERM: {
    text: 'not root, or securelevel > 0 (kexec_load needs PRIV_REBOOT and securelevel <= 0)',
    hint: 'run as root on a system with kern.securelevel <= 0 (sysctl kern.securelevel)',
  },
  EINVAL: {
    text:
      "the kernel refused the segments: it checks only the count (<= 16), bufsz <= memsz and that each segment lies inside one vm.phys_segs range; the plan passed kexec-ts's own stricter checks, so the memory map used for planning probably differs from the running kernel's (re-plan with the live vm.phys_segs)",
    hint: 're-plan against this machine: `sysctl vm.phys_segs` is what the kernel checks',
  },
  EBUSY: {text: 'another kexec_load is in progress', hint: 'wait for the other load to finish, then try again', code: 'busy'},
  ENOSYS: {
    text: "this architecture's kexec is not implemented (only amd64 and arm64 have kexec_load_md), or the running kernel has no kexec_load system call",
    hint: 'kexec needs a FreeBSD kernel with kexec support on amd64 or arm64',
  },
  EFAULT: {text: 'bad buffer address (a kexec-ts bug)', hint: 'please report this with the plan (`kexec-ts plan --json`)'},
  ENOMEM: {text: 'the kernel could not allocate and map the pages to stage the image', hint: 'free memory or load a smaller image'},
};

const REBOOT: Readonly<Record<string, Meaning>> = {
  EPERM: {text: 'not root (reboot needs PRIV_REBOOT)', hint: 'run as root'},
  EINVAL: {text: 'the kernel refused the howto flags (is RB_KEXEC right for this kernel?)', hint: 'check RB_KEXEC in /usr/include/sys/reboot.h'},
};

/** The KexecError for a failed call: exit 5 (6 for EBUSY), reason = errno name (or `errno-<n>`). */
export function syscallError(
  call: string,
  errno: number,
  which: 'kexec_load' | 'reboot',
  details: Record<string, unknown> = {},
): KexecError {
  const name = errnoName(errno);
  const meaning = name === undefined ? undefined : (which === 'kexec_load' ? KEXEC_LOAD : REBOOT)[name];
  const shown = name === undefined ? `errno ${errno}` : `${name} (errno ${errno})`;
  const text = meaning?.text ?? (errno === 0 ? 'the call failed without setting errno' : 'unexpected error from the kernel');
  return new KexecError(meaning?.code ?? 'backend', `backend native: ${call} failed with ${shown}: ${text}`, {
    reason: name ?? `errno-${errno}`,
    ...(meaning?.hint === undefined ? {} : {hint: meaning.hint}),
    details: {...details, syscall: call, errno, errnoName: name ?? null},
  });
}
