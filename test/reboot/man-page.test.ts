/**
 * man/kexec-ts.8 against the CLI it documents: every command and flag oclif knows (the manifest when one is
 * built, else the same data from @oclif/core's Config over the compiled commands), every configuration key and
 * every exit code must appear in it; and `mandoc -T lint` finds nothing but cross references to FreeBSD manuals
 * that a Linux machine does not have.
 */
import {describe, test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {existsSync, readFileSync} from 'node:fs';
import {join} from 'node:path';
import {Config} from '@oclif/core';
import {CONFIG_KEYS} from '../../src/config/schema.js';
import {ExitCode} from '../../src/errors.js';
import {CLI_BUILT, PROJECT_ROOT} from '../helpers/corpus.js';

const MAN = join(PROJECT_ROOT, 'man/kexec-ts.8');
const MANDOC_SKIP = spawnSync('mandoc', ['-V'], {stdio: 'ignore'}).error === undefined ? false : 'mandoc is not installed';

interface ManifestFlag {
  readonly name: string;
  readonly char?: string;
  readonly allowNo?: boolean;
  readonly hidden?: boolean;
}
interface ManifestCommand {
  readonly id: string;
  readonly hidden?: boolean;
  readonly flags: Record<string, ManifestFlag>;
}

/** The commands and flags as oclif's manifest lists them. */
async function manifestCommands(): Promise<ManifestCommand[]> {
  const file = join(PROJECT_ROOT, 'oclif.manifest.json');
  if (existsSync(file)) {
    const m = JSON.parse(readFileSync(file, 'utf8')) as {commands: Record<string, ManifestCommand>};
    return Object.values(m.commands);
  }
  const config = await Config.load(PROJECT_ROOT);
  return config.commands.map((c) => ({id: c.id, hidden: c.hidden, flags: c.flags as Record<string, ManifestFlag>}));
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');
}

describe('man/kexec-ts.8', () => {
  const man = readFileSync(MAN, 'utf8');

  test('names every command and flag of the oclif manifest', {skip: CLI_BUILT ? false : 'dist/ is not built (npm run build)'}, async () => {
    const commands = (await manifestCommands()).filter((c) => c.hidden !== true);
    assert.ok(commands.length >= 7, `found ${commands.length} commands`);
    const missing: string[] = [];
    for (const c of commands) {
      const id = c.id.split(':').join(' ');
      if (!new RegExp(`^\\.(?:It )?Cm ${escape(id)}(?:\\s|$)`, 'm').test(man)) missing.push(`command "${id}" (.It Cm ${id})`);
      for (const f of Object.values(c.flags)) {
        if (f.hidden === true) continue;
        const names = [`-${f.name}`, ...(f.char === undefined ? [] : [f.char]), ...(f.allowNo === true ? [`-no-${f.name}`] : [])];
        for (const n of names) {
          if (!new RegExp(`Fl ${escape(n)}(?![\\w-])`).test(man)) missing.push(`flag -${n} of ${id} (Fl ${n})`);
        }
      }
    }
    assert.deepEqual([...new Set(missing)], [], 'add these to man/kexec-ts.8');
  });

  test('documents every configuration key and exit code', () => {
    const keys = CONFIG_KEYS.map((k) => k.key).filter((k) => !new RegExp(`^\\.It Ic ${escape(k)}$`, 'm').test(man));
    assert.deepEqual(keys, [], 'configuration keys missing (.It Ic KEY)');
    const exit = man.slice(man.indexOf('.Sh EXIT STATUS'), man.indexOf('.Sh EXAMPLES'));
    const codes = Object.values(ExitCode).filter((n) => !new RegExp(`^\\.It ${n}$`, 'm').test(exit));
    assert.deepEqual(codes, [], 'exit codes missing from EXIT STATUS');
  });

  test('mandoc -T lint: clean but for FreeBSD manuals this host lacks', {skip: MANDOC_SKIP}, () => {
    const r = spawnSync('mandoc', ['-T', 'lint', '-W', 'style', MAN], {encoding: 'utf8'});
    const issues = `${r.stdout}${r.stderr}`.split('\n').filter((l) => l !== '' && !/referenced manual not found|mandoc\.db/.test(l));
    assert.deepEqual(issues, []);
    const strict = spawnSync('mandoc', ['-T', 'lint', '-W', 'warning', MAN], {encoding: 'utf8'});
    assert.equal(strict.status, 0, `mandoc -T lint -W warning:\n${strict.stdout}${strict.stderr}`);
  });
});
