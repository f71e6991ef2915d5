/**
 * The one error type of kexec-ts. Library code throws it with an exit code, a one-line message that names the
 * file, the field and the value, and an optional hint; only the command layer turns it into an exit status.
 * Exit codes are documented in README.md and DESIGN.md.
 */

export const ExitCode = {
  ok: 0,
  internal: 1,
  usage: 2,
  badInput: 3,
  plan: 4,
  backend: 5,
  busy: 6,
  nothingStaged: 7,
} as const;

export type ExitCodeName = keyof typeof ExitCode;
export type ExitCodeValue = (typeof ExitCode)[ExitCodeName];

export interface KexecErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** A short machine-readable reason, stable across releases (for --json consumers and tests). */
  reason?: string;
  /** Extra structured context for --json output. */
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class KexecError extends Error {
  readonly code: ExitCodeValue;
  readonly hint: string | undefined;
  readonly reason: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ExitCodeName, message: string, options: KexecErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause});
    this.name = 'KexecError';
    this.code = ExitCode[code];
    this.hint = options.hint;
    this.reason = options.reason ?? code;
    this.details = options.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      reason: this.reason,
      message: this.message,
      ...(this.hint === undefined ? {} : {hint: this.hint}),
      ...(this.details === undefined ? {} : {details: this.details}),
    };
  }
}

export function isKexecError(e: unknown): e is KexecError {
  return e instanceof KexecError;
}

/** Lowercase `0x…` without padding: the one way kexec-ts prints an address or size. */
export function hex(value: bigint | number): string {
  const v = typeof value === 'number' ? BigInt(value) : value;
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}
