/**
 * The bundled entry (src/main.ts) lists by hand what oclif would otherwise find in dist/: every command file
 * under src/commands (ids as oclif derives them: path segments joined by ':') and every hook event of
 * package.json's oclif.hooks. A command or hook added without listing it there would be missing from the
 * installed CLI only, so the lists are compared here with the files and package.json.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync, readdirSync, statSync} from 'node:fs';
import {join, relative} from 'node:path';
import {fileURLToPath} from 'node:url';
import {COMMANDS, HOOK_EVENTS} from '../../src/main.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function commandIds(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return commandIds(p);
    return n.endsWith('.ts') ? [relative(join(ROOT, 'src/commands'), p).replace(/\.ts$/, '').split('/').join(':')] : [];
  });
}

test('the bundle lists every command under src/commands and every hook of package.json', () => {
  assert.deepEqual(Object.keys(COMMANDS).sort(), commandIds(join(ROOT, 'src/commands')).sort());
  const pjson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {oclif: {hooks?: Record<string, unknown>}};
  assert.deepEqual([...HOOK_EVENTS].sort(), Object.keys(pjson.oclif.hooks ?? {}).sort());
});
