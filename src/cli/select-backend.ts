/**
 * Backend selection, at the door: --backend, else config `backend`, else native on FreeBSD and the simulated machine
 * everywhere else. Every result names the backend, so nobody mistakes a simulated load for a real one.
 *
 * Never a silent fallback: on FreeBSD the native backend is the default, and when it cannot be used (no koffi
 * binary, no kexec_load in libsys/libc, an older kernel) every backend command fails with exit 5 and the reason;
 * the simulated machine is used only when asked for (`--backend sim`). A load that "succeeds" on the simulator
 * while the operator believes the host is staged would make the following `exec --yes` a no-op reboot report. The backends are imported only when chosen, so `plan` and `inspect` never load them.
 * Files named by settings (a memory map) are read here and handed to the backend as values.
 */
import {existsSync, statSync} from 'node:fs';
import {join} from 'node:path';
import type {Backend, BackendName} from '../backend/types.js';
import type {EffectiveConfig} from '../config/merge-config.js';
import {KexecError} from '../errors.js';
import {getProfile} from '../memory/profiles.js';
import {readMemoryMapFile} from '../pipeline/memory-map-file.js';

/** Where the native backend records what it staged: cleared at boot, like the kernel's staged image. */
const NATIVE_RECORD_DIR = '/var/run/kexec-ts';

export interface SelectedBackend {
  readonly backend: Backend;
  /** Why this backend was chosen, for diagnostics. */
  readonly why: string;
}

/**
 * The operating system kexec-ts believes it runs on: process.platform, unless KEXEC_TS_PLATFORM names another
 * (a test hook: it lets a Linux test run the FreeBSD default path; it can only make native the default, and the
 * native backend still refuses where it cannot bind kexec_load).
 */
export function hostPlatform(env: NodeJS.ProcessEnv = process.env): string {
  const forced = env.KEXEC_TS_PLATFORM;
  return forced !== undefined && forced !== '' ? forced : process.platform;
}

export interface SelectOptions {
  /** qemu: the emulated machine's architecture (default: arm64 when the profile is arm64-virt-2g, else amd64). */
  readonly arch?: 'amd64' | 'arm64';
}

export async function selectBackend(settings: EffectiveConfig, options: SelectOptions = {}): Promise<SelectedBackend> {
  const chosen = settings.backend.value as BackendName | undefined;
  if (chosen === 'qemu') {
    const profile = settings['sim.profile'].value ?? settings.profile.value;
    const arch = options.arch ?? (profile === 'arm64-virt-2g' ? 'arm64' : 'amd64');
    const [{createQemuBackend}, {defaultStateDir}] = await Promise.all([import('../backend/qemu/index.js'), import('../backend/sim/state-dir.js')]);
    return {backend: createQemuBackend({stateDir: stateDirectory(settings.stateDir.value ?? defaultStateDir()), arch}), why: `backend qemu (${settings.backend.source}, ${arch})`};
  }
  if (chosen === 'native') return {backend: await usableNative(settings, settings.backend.source), why: `backend native (${settings.backend.source})`};
  if (chosen === 'sim') return {backend: await simBackend(settings), why: `backend sim (${settings.backend.source})`};
  const platform = hostPlatform();
  if (platform === 'freebsd') return {backend: await usableNative(settings, 'the default on FreeBSD'), why: 'backend native (FreeBSD, kexec_load bound)'};
  return {backend: await simBackend(settings), why: `backend sim (not FreeBSD: ${platform})`};
}

/** A state directory that exists as something else (a file) is a usage mistake, named before anything is read. */
function stateDirectory(dir: string): string {
  let isDir: boolean | undefined;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    return dir; // missing (created at the first load) or unreadable: the store names the errno
  }
  if (!isDir) {
    throw new KexecError('usage', `state directory ${dir} is not a directory`, {
      reason: 'state-dir-not-directory',
      hint: 'give --state-dir (or config stateDir) a directory; nothing was read or changed',
    });
  }
  return dir;
}

/** The native backend, probed: exit 5 with the probe's reason when kexec_load cannot be bound. */
async function usableNative(settings: EffectiveConfig, source: string): Promise<Backend> {
  const native = await nativeBackend(settings);
  const probe = await native.probe();
  if (probe.available) return native;
  throw new KexecError('backend', `backend native (${source}) cannot be used: ${probe.reason ?? 'unknown reason'}`, {
    reason: 'backend-unavailable',
    hint: 'nothing was staged or changed; fix the cause above, or give --backend sim to use the simulated machine instead',
  });
}

async function nativeBackend(s: EffectiveConfig): Promise<Backend> {
  const {NativeBackend} = await import('../backend/native/native-backend.js');
  return new NativeBackend({
    recordDir: s.stateDir.value ?? NATIVE_RECORD_DIR,
    ...(s['native.library'].value === undefined ? {} : {library: s['native.library'].value}),
    rebootHeader: s['native.rebootHeader'].value,
    ...(s['native.rbKexec'].value === undefined ? {} : {rbKexec: s['native.rbKexec'].value}),
    ...(s.memmap.value === undefined ? {} : {memoryMap: await readMemoryMapFile(s.memmap.value)}),
  });
}

/**
 * The simulated machine persists in its state directory. A --profile/--memmap flag reconfigures it; the config
 * file's profile and memmap only shape a machine that does not exist yet, so a later command without flags does
 * not silently swap the machine under an image staged with a flag.
 */
async function simBackend(s: EffectiveConfig): Promise<Backend> {
  const [{SimBackend}, {defaultStateDir}] = await Promise.all([import('../backend/sim/sim-backend.js'), import('../backend/sim/state-dir.js')]);
  const stateDir = stateDirectory(s.stateDir.value ?? defaultStateDir());
  const exists = existsSync(join(stateDir, 'machine.json'));
  const applies = (source: string): boolean => source === 'flag' || !exists;
  const profileSetting = s['sim.profile'].value !== undefined ? s['sim.profile'] : s.profile;
  const profileName = profileSetting.value !== undefined && applies(profileSetting.source) ? profileSetting.value : undefined;
  const memmap = s.memmap.value !== undefined && applies(s.memmap.source) ? s.memmap.value : undefined;
  return new SimBackend({
    stateDir,
    ...(profileName === undefined ? {} : {profile: getProfile(profileName)}),
    ...(memmap === undefined ? {} : {memoryMap: await readMemoryMapFile(memmap)}),
    privileged: s['sim.privileged'].value,
    securelevel: s['sim.securelevel'].value,
  });
}
