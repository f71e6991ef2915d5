/**
 * Memory map files: a hand-written (or generated) JSON or YAML description of the target's memory, for machines
 * whose `vm.phys_segs` we cannot read. One parser (yaml's parseDocument; JSON is YAML) so that every error can
 * name the line it comes from. Also loadMemoryMap, which reads a file and picks vm.phys_segs text or a map file.
 *
 *   {"ranges": [{"start": "0x100000", "end": "0x40000000", "type": "ram", "label": "low RAM"}]}
 *
 * `end` is exclusive. start/end: "0x…" hex strings, decimal strings, or integers up to 2^53 - 1 (larger
 * integers have already lost precision in any JSON reader, so they are refused). `type` defaults to "ram".
 * parseMemoryMapText tells a map file from `sysctl vm.phys_segs` output and parses either.
 */
import {LineCounter, isAlias, isMap, isScalar, isSeq, parseDocument, type Node, type YAMLMap} from 'yaml';
import {KexecError, hex} from '../errors.js';
import {Range, U64_LIMIT, compareBigint} from './range.js';
import {makeMemoryMap, type MemoryMap, type MemoryRange} from './memory-map.js';
import {parsePhysSegs} from './phys-segs.js';

const RANGE_KEYS = ['start', 'end', 'type', 'label'] as const;

interface Ctx {
  readonly path: string;
  readonly text: string;
  readonly lines: LineCounter;
}

function lineOf(ctx: Ctx, offset: number | undefined): number {
  return ctx.lines.linePos(offset ?? 0).line;
}

function nodeLine(ctx: Ctx, node: Node | null | undefined): number {
  return lineOf(ctx, node?.range?.[0]);
}

function fail(ctx: Ctx, line: number, message: string): never {
  throw new KexecError('usage', `${ctx.path}:${line}: ${message}`, {reason: 'bad-memory-map-file'});
}

/** Control characters (a binary file given by mistake) shown as \xNN so messages stay one clean line. */
function printable(s: string): string {
  let out = '';
  for (const c of s) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || code === 0x7f ? `\\x${code.toString(16).padStart(2, '0')}` : c;
  }
  return out;
}

/** The node as written in the file, for messages (a number's source text, not its lossy double). */
function sourceText(ctx: Ctx, node: Node | null | undefined): string {
  if (node === null || node === undefined) return '(empty)';
  const r = node.range;
  const raw = r === undefined || r === null ? '' : ctx.text.slice(r[0], r[1]).trim();
  const oneLine = printable(raw.split('\n')[0] ?? '');
  return oneLine === '' ? '(empty)' : oneLine.length > 60 ? `${oneLine.slice(0, 57)}...` : oneLine;
}

function expectMap(ctx: Ctx, node: unknown, what: string, fallbackLine: number): YAMLMap<unknown, unknown> {
  if (isAlias(node)) fail(ctx, nodeLine(ctx, node), `${what}: YAML aliases are not supported`);
  if (!isMap(node)) {
    const n = isScalar(node) || isSeq(node) ? node : undefined;
    fail(ctx, n === undefined ? fallbackLine : nodeLine(ctx, n), `${what} must be a mapping, got ${sourceText(ctx, n)}`);
  }
  return node;
}

/** Key/value pairs of a mapping with string keys only, each with its line; unknown keys refused. */
function entries(ctx: Ctx, map: YAMLMap<unknown, unknown>, allowed: readonly string[], what: string): Map<string, Node | null> {
  const out = new Map<string, Node | null>();
  for (const pair of map.items) {
    const key = pair.key;
    const keyLine = isScalar(key) ? nodeLine(ctx, key) : nodeLine(ctx, map);
    if (!isScalar(key) || typeof key.value !== 'string') {
      fail(ctx, keyLine, `${what}: keys must be strings, got ${isScalar(key) ? sourceText(ctx, key) : 'a collection'}`);
    }
    const value = pair.value;
    const valueNode = isScalar(value) || isMap(value) || isSeq(value) || isAlias(value) ? value : null;
    if (!allowed.includes(key.value)) {
      fail(ctx, keyLine, `${what}: unknown key "${key.value}" (value ${sourceText(ctx, valueNode)}; known: ${allowed.join(', ')})`);
    }
    if (isAlias(valueNode)) fail(ctx, nodeLine(ctx, valueNode), `${what}: ${key.value}: YAML aliases are not supported`);
    out.set(key.value, valueNode);
  }
  return out;
}

function parseAddress(ctx: Ctx, node: Node | null, field: string, max: bigint, keyLine: number): bigint {
  const line = node === null ? keyLine : nodeLine(ctx, node);
  const shown = sourceText(ctx, node);
  if (!isScalar(node)) fail(ctx, line, `${field} must be a hex string, decimal string or integer, got ${shown}`);
  const v = node.value;
  let value: bigint;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) fail(ctx, line, `${field} ${shown} is not a non-negative integer`);
    if (!Number.isSafeInteger(v)) {
      fail(ctx, line, `${field} ${shown} is above 2^53 - 1, so its precision is already lost; write it as a hex string in quotes, e.g. "0x…"`);
    }
    value = BigInt(v);
  } else if (typeof v === 'string') {
    if (!/^(?:0[xX][0-9a-fA-F]+|[0-9]+)$/.test(v)) {
      fail(ctx, line, `${field} "${v}" is not a hex ("0x…") or decimal number`);
    }
    value = BigInt(v);
  } else {
    fail(ctx, line, `${field} must be a hex string, decimal string or integer, got ${shown}`);
  }
  if (value > max) fail(ctx, line, `${field} ${shown} is beyond the 64-bit address space`);
  return value;
}

function parseText(ctx: Ctx, node: Node | null, field: string, keyLine: number): string {
  if (!isScalar(node) || typeof node.value !== 'string' || node.value === '') {
    fail(ctx, node === null ? keyLine : nodeLine(ctx, node), `${field} must be a non-empty string, got ${sourceText(ctx, node)}`);
  }
  return node.value;
}

interface Located {
  readonly entry: MemoryRange;
  readonly line: number;
}

function parseRange(ctx: Ctx, item: unknown, index: number, fallbackLine: number): Located {
  const what = `ranges[${index}]`;
  const map = expectMap(ctx, item, what, fallbackLine);
  const line = nodeLine(ctx, map);
  const e = entries(ctx, map, RANGE_KEYS, what);
  const startNode = e.get('start');
  const endNode = e.get('end');
  if (startNode === undefined) fail(ctx, line, `${what}: missing "start"`);
  if (endNode === undefined) fail(ctx, line, `${what}: missing "end"`);
  const start = parseAddress(ctx, startNode, `${what}.start`, U64_LIMIT - 1n, line);
  const end = parseAddress(ctx, endNode, `${what}.end`, U64_LIMIT, line);
  const endLine = endNode === null ? line : nodeLine(ctx, endNode);
  if (end < start) fail(ctx, endLine, `${what}.end ${hex(end)} is below start ${hex(start)} (end is exclusive)`);
  if (end === start) fail(ctx, endLine, `${what}.end ${hex(end)} equals start: the range is empty (end is exclusive)`);
  const typeNode = e.get('type');
  const labelNode = e.get('label');
  const type = typeNode === undefined ? 'ram' : parseText(ctx, typeNode, `${what}.type`, line);
  const label = labelNode === undefined ? undefined : parseText(ctx, labelNode, `${what}.label`, line);
  const range = new Range(start, end);
  return {entry: label === undefined ? {range, type} : {range, type, label}, line};
}

/**
 * Largest JSON/YAML map file parsed (1 MiB: some 10,000 ranges, far more than any machine has). The YAML parser
 * keeps a node with positions per token, about 2 s and 100 MB a MiB, so a bigger file is refused before parsing;
 * `sysctl vm.phys_segs` text has its own linear parser and the general 16 MiB bound.
 */
export const MAP_FILE_MAX_BYTES = 1 << 20;

/** Parses a JSON or YAML memory map file; errors are KexecError('usage', `${path}:${line}: …`). */
export function parseMapFile(text: string, path: string): MemoryMap {
  const ctx: Ctx = {path, text, lines: new LineCounter()};
  if (text.length > MAP_FILE_MAX_BYTES) {
    throw new KexecError('usage', `${path}: a JSON/YAML memory map of ${hex(text.length)} characters is more than the ${hex(MAP_FILE_MAX_BYTES)} kexec-ts parses`, {
      reason: 'map-file-too-large', hint: 'give `sysctl vm.phys_segs` output instead, or merge adjacent ranges',
    });
  }
  const doc = parseDocument(text, {lineCounter: ctx.lines, prettyErrors: false});
  const syntax = doc.errors[0];
  if (syntax !== undefined) {
    const pos = ctx.lines.linePos(syntax.pos[0]);
    const lineText = (text.slice(ctx.lines.lineStarts[pos.line - 1] ?? 0).split('\n')[0] ?? '').trim();
    const near = lineText === '' || lineText.length > 60 ? '' : ` in: ${printable(lineText)}`;
    fail(ctx, pos.line, `syntax error at column ${pos.col}: ${syntax.message.split('\n')[0] ?? ''}${near}`);
  }
  if (doc.contents === null) fail(ctx, 1, 'the file is empty; expected {"ranges": [...]}');
  const top = expectMap(ctx, doc.contents, 'the top level', 1);
  const e = entries(ctx, top, ['ranges'], 'the top level');
  const rangesNode = e.get('ranges');
  if (rangesNode === undefined) fail(ctx, nodeLine(ctx, top), 'missing "ranges" (a list of {start, end, type, label})');
  if (!isSeq(rangesNode)) {
    fail(ctx, rangesNode === null ? nodeLine(ctx, top) : nodeLine(ctx, rangesNode), `ranges must be a list, got ${sourceText(ctx, rangesNode)}`);
  }
  const seqLine = nodeLine(ctx, rangesNode);
  if (rangesNode.items.length === 0) fail(ctx, seqLine, 'ranges is empty');
  const located = rangesNode.items.map((item, i) => parseRange(ctx, item, i, seqLine));

  const byStart = [...located].sort((a, b) => compareBigint(a.entry.range.start, b.entry.range.start));
  for (let i = 1; i < byStart.length; i++) {
    const a = byStart[i - 1];
    const b = byStart[i];
    if (a !== undefined && b !== undefined && a.entry.range.overlaps(b.entry.range)) {
      const [first, second] = a.line <= b.line ? [a, b] : [b, a];
      fail(ctx, second.line, `range ${second.entry.range.toString()} overlaps range ${first.entry.range.toString()} (line ${first.line})`);
    }
  }
  return makeMemoryMap(`map file ${path}`, located.map((l) => l.entry));
}

/** `sysctl vm.phys_segs` output if any line looks like `SEGMENT <n>:`, else a JSON/YAML map file. */
export function parseMemoryMapText(text: string, path: string): MemoryMap {
  return /^\s*SEGMENT\s+\d+:/m.test(text) ? parsePhysSegs(text, path) : parseMapFile(text, path);
}
