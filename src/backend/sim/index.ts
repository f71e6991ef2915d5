/**
 * The simulated memory machine backend: the one import for the door and the tests.
 */
export {SimBackend, type SimBackendOptions} from './sim-backend.js';
export {defaultStateDir} from './state-dir.js';
export {PhysicalMemory} from './physical-memory.js';
