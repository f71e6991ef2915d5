/**
 * Child process for the crash-safety and concurrency tests (not a test itself): loads a plan into the state
 * directory given as argv[2] (argv[3] 'small': a small image; otherwise 64 MiB in 1 MiB pieces, so the parent
 * can SIGKILL it while the generation is being written). Exit status: 0 loaded, else the KexecError's code.
 */
import {SimBackend} from '../../src/backend/sim/index.js';
import {isKexecError} from '../../src/errors.js';
import {largePlan, smallPlan} from './sim-fixtures.js';

const stateDir = process.argv[2];
if (stateDir === undefined) throw new Error('usage: load-large-child.ts STATEDIR [small]');
const p = process.argv[3] === 'small' ? smallPlan(process.pid % 251, {files: ['small-child.elf']}) : largePlan(8, 8);
process.stdout.write('planned\n');
try {
  await new SimBackend({stateDir}).load(p);
  process.stdout.write('loaded\n');
} catch (e) {
  process.stdout.write(`${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = isKexecError(e) ? e.code : 1;
}
