/**
 * The layer order of docs/DESIGN.md, enforced on the source: every relative import of every file under src/ is
 * resolved to the layer it lands in, and each layer may only import the layers below it. `src/plan` may see
 * `src/image` only through type-only imports of image/types.ts (the Image it plans), so the planner can never
 * call into the image builders. A file that needs a layer above it is in the wrong layer: move it.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, readdirSync, statSync} from 'node:fs';
import {dirname, join, relative, resolve} from 'node:path';
import {fileURLToPath} from 'node:url';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Layers a layer may see only through type-only imports (no code runs across them). */
const TYPES_ONLY: Readonly<Record<string, readonly string[]>> = {plan: ['image'], config: ['backend']};

/** What each layer may import (besides itself). errors.ts is the root every layer may use. */
const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  errors: [],
  io: ['errors'],
  memory: ['errors'],
  elf: ['errors', 'io', 'memory'],
  host: ['errors', 'io', 'memory'],
  image: ['errors', 'io', 'memory', 'elf'],
  plan: ['errors', 'io', 'memory', 'image'],
  config: ['errors', 'io', 'memory', 'backend'],
  render: ['errors', 'memory', 'elf', 'image', 'plan'],
  backend: ['errors', 'io', 'memory', 'elf', 'image', 'plan', 'host'],
  pipeline: ['errors', 'io', 'memory', 'elf', 'image', 'plan', 'host', 'backend'],
  cli: ['errors', 'io', 'memory', 'elf', 'image', 'plan', 'host', 'backend', 'pipeline', 'config', 'render'],
  commands: ['errors', 'io', 'memory', 'elf', 'image', 'plan', 'host', 'backend', 'pipeline', 'config', 'render', 'cli'],
  // The bundle entry: lists the commands and hooks for oclif and runs it as src/cli/main.ts configures it.
  main: ['commands', 'cli'],
};

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function layerOf(file: string): string {
  const rel = relative(SRC, file);
  return rel === 'errors.ts' ? 'errors' : rel === 'main.ts' ? 'main' : (rel.split('/')[0] ?? '');
}

interface Import {
  readonly from: string;
  readonly to: string;
  readonly typeOnly: boolean;
}

function importsOf(file: string): Import[] {
  const text = readFileSync(file, 'utf8');
  const out: Import[] = [];
  const re = /^\s*(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'(\.[^']+)'|import\('(\.[^']+)'\)/gm;
  for (const m of text.matchAll(re)) {
    const spec = m[3] ?? m[4];
    if (spec === undefined) continue;
    const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
    out.push({from: file, to: target, typeOnly: m[2] !== undefined});
  }
  return out;
}

test('every import under src/ points down the layer order', () => {
  const all = files(SRC);
  assert.ok(all.length > 50, `found ${all.length} source files`);
  const bad: string[] = [];
  for (const file of all) {
    const from = layerOf(file);
    const allowed = ALLOWED[from];
    assert.ok(allowed !== undefined, `${relative(SRC, file)}: unknown layer "${from}" (add it to DESIGN.md and this test)`);
    for (const i of importsOf(file)) {
      const to = layerOf(i.to);
      if (to === from) continue;
      if (!allowed.includes(to)) bad.push(`${relative(SRC, file)} (${from}) imports ${relative(SRC, i.to)} (${to})`);
      if (from === 'plan' && to === 'image' && relative(SRC, i.to) !== 'image/types.ts') {
        bad.push(`${relative(SRC, file)}: src/plan may import only image/types.ts, not ${relative(SRC, i.to)}`);
      }
      if ((TYPES_ONLY[from] ?? []).includes(to) && !i.typeOnly) bad.push(`${relative(SRC, file)}: ${from} may import ${to} only with \`import type\``);
    }
  }
  assert.deepEqual(bad, []);
});

test('the layer checker sees what it checks: a known downward import and a dynamic one are found', () => {
  const planner = importsOf(join(SRC, 'plan/planner.ts')).map((i) => relative(SRC, i.to));
  assert.ok(planner.includes('memory/memory-map.ts') && planner.includes('image/types.ts'), planner.join(', '));
  const select = importsOf(join(SRC, 'cli/select-backend.ts')).map((i) => relative(SRC, i.to));
  assert.ok(select.includes('backend/sim/sim-backend.ts'), `dynamic imports are checked too: ${select.join(', ')}`);
});
