/**
 * What kexec-ts prints is safe to print: kernel environment values whose names look secret are redacted, and
 * control characters (from file names, forged state records, environment values) are escaped so nothing a file
 * holds can move the cursor, retitle the terminal or forge a line. `--show-secrets` turns redaction off; escaping
 * is always on in text output (JSON escapes C0 controls itself; C1 and DEL are escaped here too).
 *
 * Secret-looking names (case-insensitive), the list README "Output and secrets" documents:
 * containing `passphrase`, `password`, `passwd` or `secret`; ending in `.key`, `_key` or `-key`
 * (kern.geom.eli.passphrase, geli keys, iSCSI CHAP secrets, ...).
 */

export const REDACTED = '<redacted>';

const SECRET_NAME = /passphrase|password|passwd|secret|[._-]key$/i;

/** True when a kernel environment name looks like it holds a secret. */
export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

/** `NAME=VALUE` (a kenv string, as the boot report prints it) with VALUE redacted when NAME looks secret. */
const ASSIGNMENT = /([A-Za-z0-9_.\-[\]]+)=("[^"]*"|\S*)/g;

/** A line of text with the values of secret-looking assignments redacted. */
export function redactText(text: string): string {
  return text.replace(ASSIGNMENT, (whole, name: string) => (isSecretName(name) ? `${name}=${REDACTED}` : whole));
}

/**
 * A copy of a JSON value with secrets redacted: a string property whose key looks secret (handoff.env is a
 * name → value object), and a string that is a secret `NAME=VALUE` assignment (report lines). Iterative, so a
 * deep or wide value never grows the stack.
 */
export function redactJson(value: unknown): unknown {
  const fix = (key: string | undefined, v: unknown): unknown => {
    if (typeof v === 'string') return key !== undefined && isSecretName(key) ? REDACTED : v.includes('=') ? redactText(v) : v;
    return v;
  };
  const root = {v: value};
  const stack: Array<Record<string, unknown> | unknown[]> = [];
  const copy = (v: unknown): unknown => {
    if (Array.isArray(v)) {
      const a = v.slice();
      stack.push(a);
      return a;
    }
    if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
      const o: Record<string, unknown> = {...(v as Record<string, unknown>)};
      stack.push(o);
      return o;
    }
    return v;
  };
  const out = copy(fix(undefined, root.v));
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) node[i] = copy(fix(undefined, node[i]));
    } else {
      for (const k of Object.keys(node)) node[k] = copy(fix(k, node[k]));
    }
  }
  return out;
}

/** C0 controls but tab and newline, DEL and C1 controls, and the Unicode line/paragraph separators. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029]/g;

/** Text with every control character but tab and newline shown as `\xNN` (or `\uNNNN`). */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** One-line message text: newlines and tabs escaped too, so a message is exactly one line. */
export function escapeLine(text: string): string {
  return escapeControls(text).replace(/\n/g, '\\n').replace(/\t/g, '\\t');
}

/**
 * The JSON document for stdout: JSON.stringify, indented by 2, plus escapes for what it leaves raw (DEL, C1,
 * U+2028/9). Never oclif's colouriser, whose recursive tokenizer overflows the stack on a multi-megabyte value.
 */
export function jsonDocument(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/[\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}
