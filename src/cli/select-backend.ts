/**
 * Backend selection, at the door: --backend, else config `backend`, else native on FreeBSD (when kexec_load can be
 * bound) and the simulated machine everywhere else. Every result names the backend, so nobody mistakes a simulated
 * load for a real one. The backends are imported only when chosen, so `plan` and `inspect` never load them.
 * Files named by settings (a memory map) are read here and handed to the backend as values.
 */
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import type {Backend, BackendName} from '../backend/types.js';
import type {EffectiveConfig} from '../config/merge-config.js';
import {getProfile} from '../memory/profiles.js';
import {readMemoryMapFile} from '../pipeline/memory-map-file.js';

/** Where the native backend records what it staged: cleared at boot, like the kernel's staged image. */
const NATIVE_RECORD_DIR = '/var/run/kexec-ts';

export interface SelectedBackend {
  readonly backend: Backend;
  /** Why this backend was chosen, for diagnostics. */
  readonly why: string;
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
    return {backend: createQemuBackend({stateDir: settings.stateDir.value ?? defaultStateDir(), arch}), why: `backend qemu (${settings.backend.source}, ${arch})`};
  }
  if (chosen === 'native') return {backend: await nativeBackend(settings), why: `backend native (${settings.backend.source})`};
  if (chosen === 'sim') return {backend: await simBackend(settings), why: `backend sim (${settings.backend.source})`};
  if (process.platform === 'freebsd') {
    const native = await nativeBackend(settings);
    const probe = await native.probe();
    if (probe.available) return {backend: native, why: 'backend native (FreeBSD, kexec_load bound)'};
    return {backend: await simBackend(settings), why: `backend sim: the native backend is unavailable here (${probe.reason ?? 'unknown reason'})`};
  }
  return {backend: await simBackend(settings), why: `backend sim (not FreeBSD: ${process.platform})`};
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
  const stateDir = s.stateDir.value ?? defaultStateDir();
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
