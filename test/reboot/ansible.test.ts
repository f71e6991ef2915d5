/**
 * The rolling-upgrade playbook (templates/ansible/): `ansible-playbook --syntax-check` must pass, and
 * `ansible-lint --offline` too where it is installed (Debian ansible-core and ansible-lint). The playbook must
 * keep the rollout's safety settings: one batch at a time and any failure stopping it.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {spawnSync} from 'node:child_process';
import {readFileSync} from 'node:fs';
import {join} from 'node:path';
import {PROJECT_ROOT} from '../helpers/corpus.js';
import {tempDir} from '../helpers/lifecycle-cli.js';

const DIR = join(PROJECT_ROOT, 'templates/ansible');
const PLAYBOOK = join(DIR, 'kexec-upgrade.yml');
const have = (cmd: string): boolean => spawnSync(cmd, ['--version'], {stdio: 'ignore'}).status === 0;

function ansibleEnv(home: string): NodeJS.ProcessEnv {
  return {...process.env, HOME: home, ANSIBLE_HOME: join(home, '.ansible'), ANSIBLE_LOCAL_TEMP: join(home, 'tmp'), ANSIBLE_NOCOLOR: '1', NO_COLOR: '1'};
}

test('the playbook keeps the rollout safe: serial batches, stop on any failure, verify after the boot', () => {
  const text = readFileSync(PLAYBOOK, 'utf8');
  assert.match(text, /^\s+serial: /m);
  assert.match(text, /^\s+max_fail_percentage: 0$/m);
  assert.match(text, /^\s+any_errors_fatal: true$/m);
  const tasks = readFileSync(join(DIR, 'roles/kexec_upgrade/tasks/main.yml'), 'utf8');
  const order = ['updatesready', ' load ', 'exec --yes', 'wait_for_connection', 'ansible.builtin.assert'].map((s) => tasks.indexOf(s));
  assert.ok(order.every((i, k) => i >= 0 && (k === 0 || i > (order[k - 1] ?? -1))), `steps in order: ${order.join(',')}`);
});

test('ansible-playbook --syntax-check', {skip: have('ansible-playbook') ? false : 'ansible-playbook (Debian ansible-core) is not installed'}, (t) => {
  const home = tempDir(t, 'kexec-ansible-');
  const r = spawnSync('ansible-playbook', ['--syntax-check', '-i', 'localhost,', PLAYBOOK], {cwd: DIR, encoding: 'utf8', env: ansibleEnv(home)});
  assert.equal(r.status, 0, r.stdout + r.stderr);
});

test('ansible-lint --offline', {skip: have('ansible-lint') ? false : 'ansible-lint is not installed', timeout: 300_000}, (t) => {
  const home = tempDir(t, 'kexec-ansible-');
  const r = spawnSync('ansible-lint', ['--offline', '--nocolor', PLAYBOOK], {cwd: DIR, encoding: 'utf8', env: ansibleEnv(home)});
  assert.equal(r.status, 0, r.stdout + r.stderr);
});
