/**
 * The Node version check that replaces oclif's semver-based one in the bundle (src/cli/node-engine.ts).
 */
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {readFileSync} from 'node:fs';
import {engineWarning, lowerBound} from '../../src/cli/node-engine.js';

test('package.json engines.node is a lower bound the check reads', () => {
  const pjson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {engines: {node: string}};
  assert.deepEqual(lowerBound(pjson.engines.node), [20, 19, 0]);
  assert.equal(engineWarning(pjson.engines.node, process.versions.node), undefined, 'the Node running the tests is supported');
});

test('versions below the bound warn, equal or above do not', () => {
  for (const v of ['18.20.4', '20.18.9', '20.9.0', '19.99.99']) assert.match(engineWarning('>=20.19', v) ?? '', new RegExp(`Node ${v} is older .*>=20\\.19`), v);
  for (const v of ['20.19.0', '20.20.2', '22.1.0', '100.0.0']) assert.equal(engineWarning('>=20.19', v), undefined, v);
  assert.equal(engineWarning('>= 20', '20.0.0'), undefined);
  assert.match(engineWarning('>=20.19.3', '20.19.2') ?? '', /older/);
});

test('a range of another form is not guessed at', () => {
  assert.equal(lowerBound('^20.19 || >=22'), undefined);
  assert.equal(engineWarning('^20.19 || >=22', '10.0.0'), undefined);
  assert.equal(engineWarning(undefined, '10.0.0'), undefined);
});
