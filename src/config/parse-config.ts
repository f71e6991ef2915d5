/**
 * Turns the text of one config file into a validated KexecConfig, or a KexecError (exit 2) that names the file and
 * the line: users edit these files by hand, so "file:line: what is wrong" is the whole user interface. YAML and
 * JSON both go through the `yaml` package (a Document keeps source positions); JSON files must also be strict
 * JSON. Nothing here can run code: script extensions are refused before a byte is read.
 */
import {basename, extname} from 'node:path';
import {LineCounter, isMap, isNode, isScalar, isSeq, parseDocument, type Document} from 'yaml';
import {KexecError} from '../errors.js';
import {validateConfig, type ConfigIssue, type KexecConfig} from './schema.js';
import {isPlainMapping} from './value-parsers.js';

/** The property of package.json that holds kexec-ts settings. */
const PACKAGE_PROPERTY = 'kexec-ts';

const SCRIPT_EXTENSIONS: ReadonlySet<string> = new Set(['.js', '.cjs', '.mjs', '.ts', '.cts', '.mts', '.jsx', '.tsx']);

export type ConfigFormat = 'yaml' | 'json' | 'package.json';

/** How a file is read: package.json by name, JSON by extension, YAML otherwise (also with no extension). */
export function configFormat(file: string): ConfigFormat {
  const ext = extname(file).toLowerCase();
  if (SCRIPT_EXTENSIONS.has(ext)) {
    throw new KexecError('usage', `${file}: refusing to load a ${ext} configuration: kexec-ts runs as root and reads JSON or YAML only`, {
      reason: 'config-executable',
      hint: 'write the settings as JSON or YAML (kexec-ts init writes a commented YAML template)',
      details: {file},
    });
  }
  if (basename(file) === 'package.json') return 'package.json';
  return ext === '.json' ? 'json' : 'yaml';
}

function syntaxError(file: string, line: number, message: string): KexecError {
  return new KexecError('usage', `${file}:${line}: syntax error: ${message}`, {
    reason: 'config-syntax',
    hint: 'fix the file, or name another one with --config',
    details: {file, line},
  });
}

/** The 1-based line where `path` (key names and list indexes) is written: its key, or the deepest part found. */
function lineOfPath(doc: Document, lines: LineCounter, path: readonly string[]): number {
  let node: unknown = doc.contents;
  let line = isNode(node) && node.range !== undefined && node.range !== null ? lines.linePos(node.range[0]).line : 1;
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (pair === undefined) break;
      if (isNode(pair.key) && pair.key.range) line = lines.linePos(pair.key.range[0]).line;
      node = pair.value;
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(segment)];
      if (!isNode(item) || !item.range) break;
      line = lines.linePos(item.range[0]).line;
      node = item;
    } else {
      break;
    }
  }
  return line;
}

function issueError(file: string, line: number, issue: ConfigIssue, count: number): KexecError {
  const more = count > 1 ? ` (and ${count - 1} more problem${count > 2 ? 's' : ''})` : '';
  return new KexecError('usage', `${file}:${line}: ${issue.message}${more}`, {
    reason: issue.kind === 'unknown-key' ? 'config-unknown-key' : 'config-type',
    hint: 'the keys, their types and defaults are listed in the README ("Configuration") and in the template that `kexec-ts init` writes',
    details: {file, line, key: issue.path.join('.'), ...(issue.suggestion === undefined ? {} : {suggestion: issue.suggestion})},
  });
}

/** Strict JSON check for .json files (YAML would also accept trailing commas and comments). */
function checkStrictJson(file: string, text: string, lines: LineCounter): void {
  try {
    JSON.parse(text);
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const position = /position (\d+)/.exec(message)?.[1];
    const line = position === undefined ? 1 : lines.linePos(Number(position)).line;
    throw syntaxError(file, line, `${message.replace(/ in JSON at position \d+.*$/, '')} (not valid JSON)`);
  }
}

/** Offset of the first key that repeats an earlier scalar key of the same mapping, anywhere in the document. */
function firstDuplicateKey(doc: Document): number | undefined {
  const stack: unknown[] = [doc.contents];
  for (let node = stack.pop(); stack.length > 0 || node !== undefined; node = stack.pop()) {
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const key = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(key)) return isNode(pair.key) && pair.key.range ? pair.key.range[0] : 0;
        seen.add(key);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return undefined;
}

/**
 * Parses and validates a config file's text. Returns null for a package.json without a "kexec-ts" property
 * (not a kexec-ts config), {} for an empty file; throws a KexecError (exit 2, reason config-syntax,
 * config-unknown-key or config-type) whose message starts with `file:line:`.
 */
export function parseConfigText(file: string, source: string): KexecConfig | null {
  const format = configFormat(file);
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source;
  const lines = new LineCounter();
  // yaml's own duplicate-key check compares every key with every earlier one (60,000 env entries: 2 minutes);
  // firstDuplicateKey does the same check in one pass.
  const doc = parseDocument(text, {lineCounter: lines, prettyErrors: false, uniqueKeys: false});
  const first = doc.errors[0];
  if (first !== undefined) throw syntaxError(file, lines.linePos(first.pos[0]).line, first.message);
  const dup = firstDuplicateKey(doc);
  if (dup !== undefined) throw syntaxError(file, lines.linePos(dup).line, 'Map keys must be unique');
  if (format !== 'yaml' && text.trim() !== '') checkStrictJson(file, text, lines);

  let value: unknown;
  try {
    value = doc.toJS({maxAliasCount: 100});
  } catch (e) {
    throw syntaxError(file, 1, e instanceof Error ? e.message : String(e));
  }
  let prefix: string[] = [];
  if (format === 'package.json') {
    if (!isPlainMapping(value) || !Object.hasOwn(value, PACKAGE_PROPERTY)) return null;
    value = value[PACKAGE_PROPERTY];
    prefix = [PACKAGE_PROPERTY];
  }
  const result = validateConfig(value);
  if (result.ok) return result.config;
  const issue = result.issues[0];
  if (issue === undefined) return {};
  throw issueError(file, lineOfPath(doc, lines, [...prefix, ...issue.path]), issue, result.issues.length);
}
