// The bash completion script, run in a real bash with a stand-in `coxctl` that answers
// `get TYPE -o name`: verbs, subcommands, flags, resource types and object names complete.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { buildProgram } from '../index.js';
import { bashCompletionScript, completionSpec } from './completion.js';

const io = { stdout: () => undefined, stderr: () => undefined, readStdin: () => '' };
const script = bashCompletionScript(completionSpec(buildProgram(io, () => undefined)));

/** The completions bash offers for the words of a command line (the last one being completed). */
function complete(...words: string[]): string[] {
  const program = [
    script,
    // The stand-in coxctl logs its arguments to stderr and lists two deployments.
    'coxctl() { echo "ARGS $*" >&2; printf "deployment.apps/web\\ndeployment.apps/worker\\n"; }',
    `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')})`,
    'COMP_CWORD=$((${#COMP_WORDS[@]} - 1))',
    '_coxctl',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const res = spawnSync('bash', ['-c', program], { encoding: 'utf8', timeout: 10_000 });
  assert.equal(res.status, 0, res.stderr);
  return res.stdout.split('\n').filter((l) => l !== '');
}

describe('coxctl completion bash', () => {
  test('the script is valid bash and registers _coxctl', () => {
    const res = spawnSync('bash', ['-n'], { input: script, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.match(script, /^complete -o default -F _coxctl coxctl$/m);
  });

  test('verbs, subcommands and flags', () => {
    assert.deepEqual(complete('coxctl', 'ge'), ['get']);
    assert.deepEqual(complete('coxctl', 'create', 'secret', 't'), ['tls']);
    assert.ok(complete('coxctl', 'create', '').includes('deployment'));
    assert.deepEqual(complete('coxctl', 'get', '--show-l'), ['--show-labels']);
    assert.ok(complete('coxctl', 'label', '--o').includes('--overwrite'));
  });

  test("resource types and names from the cluster, with the line's namespace", () => {
    assert.deepEqual(complete('coxctl', 'get', 'deployme'), ['deployment', 'deployments']);
    assert.deepEqual(complete('coxctl', 'get', 'deploy', 'w'), ['web', 'worker']);
    assert.deepEqual(complete('coxctl', 'describe', 'deploy/wo'), ['deploy/worker']);
    assert.deepEqual(complete('coxctl', '-n', 'demo', 'set', 'image', 'deploy/w'), ['deploy/web', 'deploy/worker']);
    // A stand-in that answers with its own arguments shows what the script asked.
    const res = spawnSync(
      'bash',
      [
        '-c',
        [
          script,
          'coxctl() { printf "x/%s\\n" "$@"; }',
          "COMP_WORDS=(coxctl -n demo get deploy '')",
          'COMP_CWORD=5',
          '_coxctl',
          'echo "${COMPREPLY[*]}"',
        ].join('\n'),
      ],
      { encoding: 'utf8', timeout: 10_000 },
    );
    assert.equal(res.stdout.trim(), '-n demo get deploy -o name');
  });
});
