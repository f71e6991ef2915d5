/**
 * Nothing outside the installed package runs (issue 13 item 1). Each case runs `bin/run.js` itself, through its
 * shebang as a shell would, as root runs it under `sudo -E`: with HOME, XDG_DATA_HOME and KEXEC_TS_DATA_DIR
 * pointing at a directory somebody else wrote. That directory holds what @oclif/core would load as a user plugin
 * and as a linked plugin (package.json `oclif.plugins`), each with an `init` hook that writes a marker file; the
 * marker must never appear. A second case passes `--env-file=FILE` with FILE setting NODE_OPTIONS to `--require`
 * a script: Node 20 applies `--env-file` found after the script name unless argv holds `--` before it.
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {existsSync, mkdirSync, writeFileSync} from 'node:fs';
import {join} from 'node:path';
import {CLI_BIN} from '../helpers/corpus.js';
import {CLI_SKIP, tempDir} from '../helpers/lifecycle-cli.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Executes bin/run.js directly (its shebang picks node), never `node bin/run.js`. */
function runBin(args: string[], env: NodeJS.ProcessEnv, cwd: string): Promise<Run> {
  return new Promise((resolve) => {
    execFile(CLI_BIN, args, {cwd, env: {PATH: process.env.PATH, CI: 'true', NO_COLOR: '1', KEXEC_TS_SYSCONFDIR: join(cwd, 'no-etc'), ...env}}, (err, stdout, stderr) => {
      resolve({code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr});
    });
  });
}

/** A plugin package at `dir` whose init hook creates `marker`. */
function plantPlugin(dir: string, name: string, marker: string): void {
  mkdirSync(dir, {recursive: true});
  writeFileSync(join(dir, 'package.json'), JSON.stringify({name, version: '1.0.0', type: 'module', oclif: {hooks: {init: './hook.js'}, commands: './commands'}}));
  writeFileSync(join(dir, 'hook.js'), `import {writeFileSync} from 'node:fs';\nexport default async function () { writeFileSync(${JSON.stringify(marker)}, 'ran'); }\n`);
}

/** An oclif data dir listing a user plugin (in its node_modules) and a linked one (anywhere). */
function plantDataDir(dataDir: string, marker: string): void {
  plantPlugin(join(dataDir, 'node_modules', 'evil-user'), 'evil-user', `${marker}.user`);
  plantPlugin(join(dataDir, 'linked'), 'evil-link', `${marker}.link`);
  writeFileSync(join(dataDir, 'package.json'), JSON.stringify({
    private: true,
    dependencies: {'evil-user': '1.0.0'},
    oclif: {schema: 1, plugins: [{type: 'user', name: 'evil-user'}, {type: 'link', name: 'evil-link', root: join(dataDir, 'linked')}]},
  }));
}

test('a plugin planted in HOME, XDG_DATA_HOME or KEXEC_TS_DATA_DIR never runs', {skip: CLI_SKIP, timeout: 60000}, async (t) => {
  const dir = tempDir(t, 'kexec-plugins-');
  const marker = join(dir, 'MARKER');
  const home = join(dir, 'home');
  const xdg = join(dir, 'xdg');
  const data = join(dir, 'data');
  plantDataDir(join(home, '.local', 'share', 'kexec-ts'), `${marker}-home`);
  plantDataDir(join(xdg, 'kexec-ts'), `${marker}-xdg`);
  plantDataDir(data, `${marker}-data`);
  const envs: NodeJS.ProcessEnv[] = [{HOME: home}, {HOME: home, XDG_DATA_HOME: xdg}, {HOME: home, KEXEC_TS_DATA_DIR: data}];
  for (const env of envs) {
    const r = await runBin(['inspect', CLI_BIN], env, dir);
    // bin/run.js is not ELF: exit 3 shows the command itself ran.
    assert.equal(r.code, 3, `${JSON.stringify(env)}: ${r.stderr}`);
  }
  for (const where of ['home', 'xdg', 'data']) {
    for (const kind of ['user', 'link']) assert.equal(existsSync(`${marker}-${where}.${kind}`), false, `the ${kind} plugin planted in ${where} ran`);
  }
});

test('--env-file after the command is ours: NODE_OPTIONS in it never reaches node', {skip: CLI_SKIP, timeout: 60000}, async (t) => {
  const dir = tempDir(t, 'kexec-envfile-');
  const marker = join(dir, 'MARKER');
  const evil = join(dir, 'evil.cjs');
  writeFileSync(evil, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'ran');\n`);
  const envFile = join(dir, 'kenv');
  writeFileSync(envFile, `NODE_OPTIONS=--require ${evil}\n`);
  for (const args of [['plan', `--env-file=${envFile}`, CLI_BIN], ['plan', '--env-file', envFile, CLI_BIN]]) {
    const r = await runBin(args, {HOME: dir}, dir);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(existsSync(marker), false, `node applied ${args.join(' ')} itself`);
  }
});
