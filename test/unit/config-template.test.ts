// The shipped config template and `init` (copying templates, never overwriting); the upgrade scripts themselves are
// run against stubs in test/reboot/upgrade-scripts.test.ts.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFile, stat, writeFile} from 'node:fs/promises';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {fileURLToPath} from 'node:url';
import {KexecError} from '../../src/errors.js';
import {initConfigName, templatesDir, writeInitFiles} from '../../src/config/init.js';
import {loadConfig} from '../../src/config/load-config.js';
import {mergeConfig} from '../../src/config/merge-config.js';
import {parseConfigText} from '../../src/config/parse-config.js';
import {renderConfigTemplate, uncommentExamples} from '../../src/config/template.js';
import {scratchDir} from '../helpers/scratch.js';

const TEMPLATES = fileURLToPath(new URL('../../templates/', import.meta.url));
const CONFIG_TEMPLATE = join(TEMPLATES, 'config/kexec-ts.yaml');
const SCRIPT = join(TEMPLATES, 'scripts/freebsd-update-kexec.sh');

test('the template file is the one generated from the schema', async () => {
  assert.equal(await readFile(CONFIG_TEMPLATE, 'utf8'), renderConfigTemplate(),
    'regenerate: node --import tsx -e "import(\'./src/config/template.ts\').then((m) => process.stdout.write(m.renderConfigTemplate()))" > templates/config/kexec-ts.yaml');
});

test('the template validates as shipped (all commented out) and with every example uncommented', async () => {
  const text = await readFile(CONFIG_TEMPLATE, 'utf8');
  assert.deepEqual(parseConfigText(CONFIG_TEMPLATE, text), {});
  const uncommented = uncommentExamples(text);
  assert.match(uncommented, /^backend: sim$/m);
  assert.match(uncommented, /^native:\n {2}library: /m);
  const config = parseConfigText(CONFIG_TEMPLATE, uncommented);
  assert.ok(config !== null);
  const effective = mergeConfig({config, source: CONFIG_TEMPLATE});
  for (const [key, setting] of Object.entries(effective)) assert.equal(setting.source, `config ${CONFIG_TEMPLATE}`, `${key} has no example in the template`);
});

test('templates are found from the module location', () => {
  assert.equal(templatesDir(), join(TEMPLATES).replace(/\/$/, ''));
});

test('writeInitFiles writes the template (and the script) and refuses to overwrite unless forced', async () => {
  const dir = join(scratchDir('kexec-init-'), 'new', 'dir');
  const written = await writeInitFiles({dir, withScript: true, force: false});
  assert.deepEqual(written, [join(dir, '.kexec-tsrc.yaml'), join(dir, 'freebsd-update-kexec.sh')]);
  assert.equal(await readFile(written[0] ?? '', 'utf8'), await readFile(CONFIG_TEMPLATE, 'utf8'));
  assert.equal(await readFile(written[1] ?? '', 'utf8'), await readFile(SCRIPT, 'utf8'));
  assert.ok(((await stat(written[1] ?? '')).mode & 0o111) !== 0, 'the script is executable');
  assert.deepEqual(await loadConfig({cwd: dir, env: {}}), {config: {}, source: join(dir, '.kexec-tsrc.yaml')});

  await writeFile(join(dir, '.kexec-tsrc.yaml'), 'backend: sim\n');
  const err = await writeInitFiles({dir, withScript: false, force: false}).catch((e: unknown) => e);
  assert.ok(err instanceof KexecError);
  assert.equal(err.code, 2);
  assert.equal(err.reason, 'init-exists');
  assert.equal(err.message, `${join(dir, '.kexec-tsrc.yaml')}: already exists; not overwriting`);
  assert.equal(await readFile(join(dir, '.kexec-tsrc.yaml'), 'utf8'), 'backend: sim\n', 'nothing was overwritten');

  assert.deepEqual(await writeInitFiles({dir, withScript: true, force: true}), written);
  assert.equal(await readFile(join(dir, '.kexec-tsrc.yaml'), 'utf8'), await readFile(CONFIG_TEMPLATE, 'utf8'));
});

test('in the system-wide directory init writes kexec-ts.yaml, which the fallback finds', async () => {
  const sys = scratchDir('kexec-sys-');
  const previous = process.env.KEXEC_TS_SYSCONFDIR;
  process.env.KEXEC_TS_SYSCONFDIR = sys;
  try {
    assert.equal(initConfigName(sys), 'kexec-ts.yaml');
    assert.equal(initConfigName(tmpdir()), '.kexec-tsrc.yaml');
    assert.deepEqual(await writeInitFiles({dir: sys, withScript: false, force: false}), [join(sys, 'kexec-ts.yaml')]);
  } finally {
    if (previous === undefined) delete process.env.KEXEC_TS_SYSCONFDIR;
    else process.env.KEXEC_TS_SYSCONFDIR = previous;
  }
});
