/**
 * What a FreeBSD plan promises the new kernel, read from the staged plan.json's `handoff` (written by
 * src/image/freebsd/freebsd-image.ts): modulep and kernend as the trampoline passes them, howto, the environment,
 * and every preloaded file with its recorded (loader) address and size. Physical addresses are recomputed here
 * as recorded + physOffset mod 2^64 rather than taken from the `physical` field, so a plan.json whose fields
 * disagree with each other is caught by the CRC check instead of being trusted.
 */
import {KexecError} from '../../errors.js';
import type {PlanJSON} from '../../plan/plan-json.js';

export interface PlannedFile {
  readonly name: string;
  readonly type: string;
  /** MODINFO_ADDR as recorded in the metadata (a loader address). */
  readonly addr: bigint;
  readonly size: bigint;
  readonly physical: bigint;
}

export interface PlannedHandoff {
  readonly modulep: bigint;
  readonly kernend: bigint;
  readonly howto: bigint;
  readonly env: ReadonlyMap<string, string>;
  readonly files: readonly PlannedFile[];
}

const U64 = (1n << 64n) - 1n;
const HEXNUM = /^0x[0-9a-f]+$/;

function bad(what: string): KexecError {
  return new KexecError('backend', `qemu: the staged plan.json's handoff ${what}`, {
    reason: 'state-corrupt', hint: 'load the image again',
  });
}

function num(o: Record<string, unknown>, key: string, where: string): bigint {
  const v = o[key];
  if (typeof v !== 'string' || !HEXNUM.test(v)) throw bad(`${where}${key} is ${JSON.stringify(v)}, expected a 0x… hex string`);
  return BigInt(v);
}

function str(o: Record<string, unknown>, key: string, where: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw bad(`${where}${key} is ${JSON.stringify(v)}, expected a string`);
  return v;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The FreeBSD hand-off of a staged plan, or undefined for plans without one (generic ELF images). */
export function plannedHandoff(plan: PlanJSON): PlannedHandoff | undefined {
  const h = plan.handoff;
  if (plan.kind !== 'freebsd' || h === undefined) return undefined;
  const physOffset = num(h, 'physOffset', '');
  const files = h.files;
  if (!Array.isArray(files)) throw bad(`files is ${JSON.stringify(files)}, expected a list`);
  const env = h.env;
  if (!isObject(env)) throw bad(`env is ${JSON.stringify(env)}, expected an object`);
  return {
    modulep: num(h, 'modulep', ''),
    kernend: num(h, 'kernend', ''),
    howto: num(h, 'howto', ''),
    env: new Map(Object.entries(env).map(([k, v]) => [k, String(v)])),
    files: files.map((f: unknown, i) => {
      const where = `files[${i}].`;
      if (!isObject(f)) throw bad(`files[${i}] is not an object`);
      const addr = num(f, 'addr', where);
      return {name: str(f, 'name', where), type: str(f, 'type', where), addr, size: num(f, 'size', where), physical: (addr + physOffset) & U64};
    }),
  };
}
