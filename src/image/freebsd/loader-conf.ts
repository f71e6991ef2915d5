/**
 * One loader.conf(5) file, parsed line by line as stand/lua/config.lua config.parse() does (recent main):
 *   - lines are the non-empty runs between newlines; `^%s*#` lines are comments;
 *   - patterns are tried in pattern_table order: module keys NAME_load/_name/_type/_flags/_before/_after/_error
 *     (NAME is [%w%d-_.]+), then exec="...", then an environment variable ([%w][%w%d-_.]*);
 *   - a value ($VALUE) is "..." (no quote inside) or one word [-%w%d][-%w%d_.]*; single quotes are not quotes;
 *   - what follows the value must be blank or a # comment; a line a pattern matches with anything else after its
 *     value, or that no pattern matches, is "Malformed": the loader prints it and goes on with the next line;
 *   - an environment variable's value goes through processEnvVar (backslash escapes, $name and ${name}); module key
 *     values do not (they are used as written; _load is upper-cased).
 * Module keys also reach the environment (setEnv(k .. "_load", ...) in recent main config.lua).
 */

export type ConfLine =
  | {readonly kind: 'module'; readonly line: number; readonly module: string; readonly field: ModuleField; readonly value: string}
  | {readonly kind: 'env'; readonly line: number; readonly name: string; readonly value: string}
  | {readonly kind: 'exec'; readonly line: number; readonly command: string}
  | {readonly kind: 'malformed'; readonly line: number; readonly text: string};

export type ModuleField = 'load' | 'name' | 'type' | 'flags' | 'before' | 'after' | 'error';

const S = '[ \\t\\n\\v\\f\\r]';
const QVAL = '"([^"]*)"';
const WORD = '([-A-Za-z0-9][-A-Za-z0-9_.]*)';
const MODULE = '([A-Za-z0-9_.-]+)';
const TRAIL = `${S}*(.*)$`;

function patterns(name: string): RegExp[] {
  return [new RegExp(`^${S}*${name}=${S}*${QVAL}${TRAIL}`), new RegExp(`^${S}*${name}=${S}*${WORD}${TRAIL}`)];
}

const FIELDS: readonly ModuleField[] = ['load', 'name', 'type', 'flags', 'before', 'after', 'error'];
const MODULE_PATTERNS = FIELDS.map((f) => ({field: f, res: patterns(`${MODULE}_${f}${S}*`)}));
const EXEC = new RegExp(`^${S}*exec${S}*=${S}*${QVAL}${TRAIL}`);
const ENV = patterns(`([A-Za-z0-9][A-Za-z0-9_.-]*)${S}*`);
const COMMENT = new RegExp(`^${S}*#`);
const BLANK = new RegExp(`^${S}*$`);

const validTrail = (c: string): boolean => BLANK.test(c) || new RegExp(`^${S}*#`).test(c);

/** checkPattern(): the quoted form first, then the single word. */
function match(res: readonly RegExp[], line: string): RegExpExecArray | null {
  for (const re of res) {
    const m = re.exec(line);
    if (m !== null) return m;
  }
  return null;
}

export function parseLoaderConfText(text: string): ConfLine[] {
  const out: ConfLine[] = [];
  text.split('\n').forEach((line, i) => {
    const n = i + 1;
    if (line === '' || BLANK.test(line) || COMMENT.test(line)) return;
    for (const {field, res} of MODULE_PATTERNS) {
      const m = match(res, line);
      if (m === null) continue;
      out.push(validTrail(m[3] ?? '') ? {kind: 'module', line: n, module: m[1] as string, field, value: m[2] as string} : {kind: 'malformed', line: n, text: line});
      return;
    }
    const e = EXEC.exec(line);
    if (e !== null) {
      out.push(validTrail(e[2] ?? '') ? {kind: 'exec', line: n, command: e[1] as string} : {kind: 'malformed', line: n, text: line});
      return;
    }
    const v = match(ENV, line);
    if (v !== null) {
      out.push(validTrail(v[3] ?? '') ? {kind: 'env', line: n, name: v[1] as string, value: v[2] as string} : {kind: 'malformed', line: n, text: line});
      return;
    }
    out.push({kind: 'malformed', line: n, text: line});
  });
  return out;
}

/**
 * processEnvVar: `\x` is x; `$name` (name [%w][-%w%d_.]*) and `${name}` are replaced by the variable's current
 * value (empty when unset); a `"` or a `$` or `\` at the end is an error (the variable is then not set).
 */
export function expandValue(value: string, lookup: (name: string) => string | undefined): {value: string} | {error: string} {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i] as string;
    if (c === '\\') {
      if (i === value.length - 1) return {error: 'Stray escape at end of line'};
      out += value[++i];
    } else if (c === '"') {
      return {error: `Stray quote at position '${i + 1}'`};
    } else if (c === '$') {
      if (i === value.length - 1) return {error: 'Unescaped $ at end of line'};
      const braced = value[i + 1] === '{';
      const m = braced ? /^([^}]+)}/.exec(value.slice(i + 2)) : /^([A-Za-z0-9][-A-Za-z0-9_.]*)/.exec(value.slice(i + 1));
      if (m === null) return {error: `Malformed variable expression at position '${i + 1}'`};
      const name = m[1] as string;
      out += lookup(name) ?? '';
      i += (braced ? 2 : 1) + name.length + (braced ? 1 : 0) - 1;
    } else {
      out += c;
    }
  }
  return {value: out};
}
