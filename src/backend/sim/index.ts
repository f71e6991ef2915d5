/**
 * The simulated memory machine backend: the one import for commands and other backends' hand-off decoders.
 */
export {SimBackend, type SimBackendOptions} from './sim-backend.js';
export {defaultStateDir} from './state-dir.js';
export {PhysicalMemory, type LoadedRegion} from './physical-memory.js';
export {registerHandoffDecoder, handoffDecoder, registeredHandoffKinds, type HandoffDecoder, type DecodedHandoff} from './handoff-decoders.js';
export {KEXEC_ARCHES} from './kernel-checks.js';
export {DEFAULT_PROFILE, type Machine} from './machine.js';
