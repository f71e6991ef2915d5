/**
 * How a FreeBSD kernel reads the hand-off items it takes from its environment, written from FreeBSD's source (not
 * from the probe's C) so the verdict can say what the probe should have found:
 *   - vfs.root.mountfrom: sys/kern/vfs_mountroot.c vfs_mountroot_conf0() tries one candidate per token that
 *     parse_token() returns, tokens being runs of characters other than space, tab and newline;
 *   - acpi.rsdp: sys/x86/acpica/OsdEnvironment.c acpi_get_root_from_loader() uses TUNABLE_ULONG_FETCH, i.e.
 *     sys/kern/kern_environment.c getenv_quad(): strtoq(value, &end, 0) (leading white space, a sign, 0x for hex,
 *     a leading 0 for octal, clamped to QUAD_MAX/QUAD_MIN), then nothing or exactly one of k, m, g, t (either case)
 *     multiplying by 1024 per step; anything else and the variable is ignored (the kernel then scans for the RSDP;
 *     sys/arm64/acpica/OsdEnvironment.c falls back to hint.acpi.0.rsdp instead, which the probe reports as a HINT);
 *   - hints: sys/kern/subr_hints.c reads every variable named "hint.*".
 */

const QUAD_MAX = (1n << 63n) - 1n;
const U64 = (1n << 64n) - 1n;
const SUFFIX_SHIFT: Readonly<Record<string, bigint>> = {k: 10n, m: 20n, g: 30n, t: 40n};

/** The root file systems the kernel will try, in order ("fstype:device" each). */
export function rootCandidates(value: string): string[] {
  return value.split(/[ \t\n]+/).filter((t) => t !== '');
}

function digit(c: string): number {
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  const l = c.toLowerCase();
  return l >= 'a' && l <= 'z' ? l.charCodeAt(0) - 87 : 99;
}

/** getenv_quad() of `value` as the unsigned long TUNABLE_ULONG_FETCH stores, or null when the kernel rejects it. */
export function kernelQuad(value: string): bigint | null {
  let i = 0;
  while (i < value.length && /[ \t\n\v\f\r]/.test(value[i] ?? '')) i++;
  let negative = false;
  if (value[i] === '-' || value[i] === '+') negative = value[i++] === '-';
  let base = 10;
  if (value[i] === '0' && (value[i + 1] === 'x' || value[i + 1] === 'X')) {
    base = 16;
    i += 2;
  } else if (value[i] === '0') {
    base = 8;
  }
  const limit = negative ? QUAD_MAX + 1n : QUAD_MAX;
  let acc = 0n;
  let any = false;
  for (let d = digit(value[i] ?? ''); i < value.length && d < base; d = digit(value[++i] ?? '')) {
    any = true;
    acc = acc * BigInt(base) + BigInt(d);
    if (acc > limit) acc = limit + 1n;
  }
  if (!any) return null;
  if (acc > limit) acc = limit;
  const rest = value.slice(i);
  let shift = 0n;
  if (rest !== '') {
    const s = SUFFIX_SHIFT[rest.toLowerCase()];
    if (rest.length !== 1 || s === undefined) return null;
    shift = s;
  }
  return ((negative ? -acc : acc) << shift) & U64;
}

/** The hint.* variables, in environment order. */
export function hintVariables(env: Iterable<readonly [string, string]>): [string, string][] {
  return [...env].filter(([k]) => k.startsWith('hint.')).map(([k, v]) => [k, v]);
}
