/**
 * The QEMU backend: boots a staged kexec-ts plan on an emulated amd64 or arm64 CPU in the state FreeBSD 16's
 * kexec leaves, and checks the probe kernel's console report against the plan. The one import for the door.
 */
export {QemuBackend, createQemuBackend, type QemuBackendOptions} from './qemu-backend.js';
export {type QemuArch} from './qemu-machines.js';
