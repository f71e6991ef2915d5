/**
 * The Node version check oclif makes at import (lib/index.js `checkNodeVersion`, with semver), done without
 * semver: the bundle drops oclif's call because loading semver and package.json cost 5 ms of every start
 * (scripts/bundle.mjs). package.json's `engines.node` is a lower bound (`>=20.19`); a test holds it to that form,
 * so this check cannot silently stop applying.
 */

/** `>=MAJOR[.MINOR[.PATCH]]`, the only form of engines.node this check reads. */
const LOWER_BOUND = /^>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?$/;

/** The version parts of `>=a.b.c`, or undefined when `range` is not of that form. */
export function lowerBound(range: string): [number, number, number] | undefined {
  const m = LOWER_BOUND.exec(range.trim());
  if (m === null) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

/** The warning to print when Node `version` (process.versions.node) is below `range`, else undefined. */
export function engineWarning(range: string | undefined, version: string): string | undefined {
  const min = range === undefined ? undefined : lowerBound(range);
  if (min === undefined) return undefined;
  const have = version.split('.').map((p) => Number.parseInt(p, 10));
  for (let i = 0; i < 3; i++) {
    const h = have[i] ?? 0;
    const w = min[i] as number;
    if (h > w) return undefined;
    if (h < w) return `kexec-ts: warning: Node ${version} is older than this package needs (engines.node "${range}"); upgrade Node`;
  }
  return undefined;
}
