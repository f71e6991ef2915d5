/**
 * The QEMU backend: boots a staged kexec-ts plan on an emulated amd64 or arm64 CPU in the state FreeBSD 16's
 * kexec leaves, and checks the probe kernel's console report against the plan. The one import for commands.
 */
export {QemuBackend, createQemuBackend, DEFAULT_QEMU_TIMEOUT_MS, type QemuBackendOptions} from './qemu-backend.js';
export {
  QEMU_AMD64_MEMORY_MAP, QEMU_AMD64_PROFILE, QEMU_ARCHES, QEMU_MACHINES, QEMU_SHIM_RANGE, defaultShimPath,
  type QemuArch, type QemuMachine,
} from './qemu-machines.js';
export {parseProbeConsole, type ProbeTranscript, type ProbeFile, type ProbeBegin, type ProbeVerdict} from './console-protocol.js';
export {crc32, crc32Hex} from './crc32.js';
