/**
 * The shared plan validator run by a backend against its own target before anything is staged: the page size is
 * the target's (hw.pagesize on a FreeBSD host, the machine's on sim and qemu), not the plan's own, and the memory
 * map is the target's. A plan made for another machine is refused here (exit 5) with the rule it breaks.
 */
import {KexecError} from '../errors.js';
import {planViolations} from '../plan/validate.js';
import type {Plan, SegmentDescription} from '../plan/types.js';
import type {BackendName, TargetFacts} from './types.js';

export function checkPlanForTarget(backend: BackendName, plan: Pick<Plan<SegmentDescription>, 'segments' | 'entry' | 'flags' | 'pageSize' | 'arch'>, target: TargetFacts): void {
  if (target.arch !== 'any' && plan.arch !== target.arch) {
    throw new KexecError('backend', `${backend}: the plan is for ${plan.arch} but ${target.source} is ${target.arch}`, {
      reason: 'arch-mismatch', hint: `plan an ${target.arch} image for this machine`,
    });
  }
  const v = planViolations({...plan, pageSize: target.pageSize}, target.memoryMap);
  if (plan.pageSize !== target.pageSize) {
    v.unshift({rule: 'page-size', message: `the plan was made for page size 0x${plan.pageSize.toString(16)}, ${target.source} has 0x${target.pageSize.toString(16)}`});
  }
  const first = v[0];
  if (first === undefined) return;
  const more = v.length > 1 ? ` (and ${v.length - 1} more)` : '';
  throw new KexecError('backend', `${backend}: the plan does not fit ${target.source}: ${first.message}${more}`, {
    reason: `target-${first.rule}`, details: {violations: v},
    hint: 'plan against this machine: leave --memmap, --profile and --page-size out so the backend\'s own are used',
  });
}
