/**
 * The only place kexec-ts touches koffi: a lazy `await import('koffi')` (so the sim backend and most tests never
 * load it), the library search, and typed wrappers around two C functions.
 *
 * ABI, from FreeBSD sys/sys/kexec.h:
 *   struct kexec_segment { void *buf; size_t bufsz; vm_paddr_t mem; vm_size_t memsz; };   32 bytes on LP64
 *   int kexec_load(uint64_t entry, unsigned long nseg, struct kexec_segment *segs, unsigned long flags);
 * and sys/sys/reboot.h / reboot(2): int reboot(int howto). sys/kern/kern_kexec.c copyin()s the segment array and
 * every buf, so koffi may pass the segment bytes by address: a Uint8Array member of `void *` type is passed as a
 * pointer to its own bytes (no copy), and the JS array of segments is marshalled into a C array for the call.
 */
import type {LibraryHandle, TypeObject} from 'koffi';
import {KexecError} from '../../errors.js';
import {assertTrusted} from '../../io/trust.js';

type Koffi = (typeof import('koffi'))['default'];

/** One segment as handed to the C function (buf null when bufsz is 0). */
export interface FfiSegment {
  readonly buf: Uint8Array | null;
  readonly bufsz: bigint;
  readonly mem: bigint;
  readonly memsz: bigint;
}

/** A C call's result and the errno read immediately after it (meaningful only when rc is -1). */
export interface CallResult {
  readonly rc: number;
  readonly errno: number;
}

export interface NativeBinding {
  /** The library path or soname that provided the symbols. */
  readonly library: string;
  kexecLoad(entry: bigint, segments: readonly FfiSegment[], flags: bigint): CallResult;
  reboot(howto: number): CallResult;
}

/** The libraries searched on FreeBSD when none is configured: syscall stubs moved to libsys in FreeBSD 15. */
const FREEBSD_LIBRARIES: readonly string[] = ['libsys.so.7', 'libc.so.7'];

let koffiPromise: Promise<Koffi> | undefined;
let segmentType: TypeObject | undefined;
const bindings = new Map<string, NativeBinding>();

function message(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] ?? '' : String(e);
}

/** koffi, imported on first use; a clear error when the optional dependency is missing or its binary fails. */
async function loadKoffi(): Promise<Koffi> {
  koffiPromise ??= import('koffi').then(
    (m) => m.default,
    (e: unknown) => {
      koffiPromise = undefined;
      throw new KexecError('backend', `backend native: cannot load koffi, the optional dependency that calls kexec_load(2): ${message(e)}`, {
        reason: 'koffi-unavailable',
        hint: `install koffi 3 with its prebuilt package for this platform (@koromix/koffi-${process.platform}-${process.arch}), or use the sim backend`,
        cause: e,
      });
    },
  );
  return koffiPromise;
}

/** struct kexec_segment (sys/sys/kexec.h), created once, checked against the LP64 layout the kernel expects. */
function kexecSegment(koffi: Koffi): TypeObject {
  if (segmentType !== undefined) return segmentType;
  const t = koffi.struct({buf: 'void *', bufsz: 'size_t', mem: 'uint64_t', memsz: 'uint64_t'});
  const layout = ['buf', 'bufsz', 'mem', 'memsz'].map((f) => koffi.offsetof(t, f)).join(',');
  if (koffi.sizeof(t) !== 32 || layout !== '0,8,16,24') {
    throw new KexecError('backend', `backend native: struct kexec_segment is ${koffi.sizeof(t)} bytes (offsets ${layout}), expected 32 (0,8,16,24); only LP64 platforms are supported`, {
      reason: 'abi-mismatch',
    });
  }
  segmentType = t;
  return t;
}

/** A C int result from a koffi call (koffi's functions are typed `any`; narrow here, once). */
function intResult(value: unknown, fn: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) {
    throw new KexecError('internal', `backend native: ${fn} returned ${String(value)}, expected a C int`);
  }
  return value;
}

/**
 * Runs a system call with SIGSYS caught: a kernel without the syscall sends SIGSYS (which would kill node) and,
 * when the signal is caught, fails the call with ENOSYS instead (sys/kern/kern_sig.c, nosys()).
 */
function withSigsysCaught<T>(fn: () => T): T {
  const ignore = (): void => undefined;
  process.on('SIGSYS', ignore);
  try {
    return fn();
  } finally {
    process.removeListener('SIGSYS', ignore);
  }
}

function bind(koffi: Koffi, library: string): NativeBinding {
  const lib: LibraryHandle = koffi.load(library);
  const seg = kexecSegment(koffi);
  const kexecLoad = lib.func('kexec_load', 'int', ['uint64_t', 'unsigned long', koffi.pointer(seg), 'unsigned long']);
  const reboot = lib.func('reboot', 'int', ['int']);
  const call = (name: string, invoke: () => unknown): CallResult =>
    withSigsysCaught(() => {
      koffi.errno(0);
      const rc = intResult(invoke(), name);
      return {rc, errno: koffi.errno()};
    });
  return {
    library,
    kexecLoad: (entry, segments, flags) =>
      call('kexec_load', () =>
        kexecLoad(entry, segments.length, segments.length === 0 ? null : segments, flags),
      ),
    reboot: (howto) => call('reboot', () => reboot(howto)),
  };
}

/**
 * Binds kexec_load and reboot from `library`, or on FreeBSD from the first of FREEBSD_LIBRARIES that has them.
 * Throws KexecError('backend', reason 'library-unavailable') listing what was tried and why each failed.
 */
export async function bindNative(library: string | undefined): Promise<NativeBinding> {
  const candidates = library !== undefined ? [library] : process.platform === 'freebsd' ? FREEBSD_LIBRARIES : [];
  if (candidates.length === 0) {
    throw new KexecError('backend', `backend native: this is ${process.platform}, not FreeBSD, and no library is configured`, {
      reason: 'not-freebsd',
      hint: 'the native backend drives FreeBSD kexec_load(2); use the sim or qemu backend here',
    });
  }
  // A configured library is code run as root: by path, it must pass the trust rules (a soname is found by the
  // run-time linker in the system's directories). The FreeBSD defaults are sonames.
  if (library !== undefined && library.includes('/')) assertTrusted(library, {what: 'native.library', kind: 'file', code: 'usage'});
  const koffi = await loadKoffi();
  const failures: string[] = [];
  for (const lib of candidates) {
    const cached = bindings.get(lib);
    if (cached !== undefined) return cached;
    try {
      const b = bind(koffi, lib);
      bindings.set(lib, b);
      return b;
    } catch (e) {
      if (e instanceof KexecError) throw e;
      failures.push(`${lib}: ${message(e)}`);
    }
  }
  throw new KexecError('backend', `backend native: cannot bind kexec_load and reboot (${failures.join('; ')})`, {
    reason: 'library-unavailable',
    hint: 'kexec_load(2) needs a FreeBSD kernel and libc/libsys with kexec support (FreeBSD 15 or later on amd64/arm64); set native.library to override the library',
    details: {tried: candidates, failures},
  });
}
