// The official JavaScript client (@kubernetes/client-node 1.x) against a real cluster,
// unmodified: an informer (makeInformer: list, then watch with bookmarks) sees add, update
// and delete; Log follows a container's output as it is written; Exec with stdin echoes.

import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import * as k8s from '@kubernetes/client-node';
import { RESOURCES } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually } from './harness/clients.js';
import type { NodeAgent } from './harness/control-plane.js';
import { startBusyboxPod, TICKING } from './harness/pods.js';

const NS = 'default';

let cluster: AgentCluster | undefined;
let agent: NodeAgent;
let client: RestClient;
let kc: k8s.KubeConfig;

/** A running pod on the agent whose container prints `tick N` every 0.3 s. */
function tickingPod(name: string): Promise<void> {
  return startBusyboxPod(client, { name, namespace: NS, nodeName: agent.name }, TICKING);
}

before(async () => {
  cluster = await startAgentCluster();
  ({ agent, client } = cluster);
  kc = new k8s.KubeConfig();
  kc.loadFromFile(cluster.plane.pki.adminKubeconfig);
  await tickingPod('js-ticker');
});
after(async () => {
  await cluster?.stop();
});

describe('the official JavaScript client', () => {
  test('an informer sees add, update and delete', async () => {
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${NS}/pods`, () =>
      core.listNamespacedPod({ namespace: NS }),
    );
    const seen: string[] = [];
    const mine = (verb: string) => (pod: k8s.V1Pod) => {
      if (pod.metadata?.name === 'js-watched') seen.push(verb);
    };
    informer.on('add', mine('add'));
    informer.on('update', mine('update'));
    informer.on('delete', mine('delete'));
    const errors: unknown[] = [];
    informer.on('error', (err) => errors.push(err));
    await informer.start();
    try {
      // The informer listed js-ticker: its cache works.
      assert.ok(informer.get('js-ticker', NS) !== undefined);
      await client.create(
        RESOURCES.pods,
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'js-watched' },
          spec: { containers: [{ name: 'c', image: 'busybox:latest' }] },
        },
        { namespace: NS },
      );
      await eventually(() => seen.includes('add'), { timeoutMs: 20_000, what: `add (seen ${seen.join()})` });
      await client.patch(RESOURCES.pods, 'js-watched', {
        namespace: NS,
        type: 'merge',
        body: { metadata: { labels: { seen: 'yes' } } },
      });
      await eventually(() => seen.includes('update'), { timeoutMs: 20_000, what: `update (seen ${seen.join()})` });
      assert.equal(informer.get('js-watched', NS)?.metadata?.labels?.['seen'], 'yes');
      await client.delete(RESOURCES.pods, 'js-watched', { namespace: NS });
      await eventually(() => seen.includes('delete'), { timeoutMs: 20_000, what: `delete (seen ${seen.join()})` });
      assert.equal(informer.get('js-watched', NS), undefined);
      assert.deepEqual(errors, []);
    } finally {
      await informer.stop();
    }
  });

  test('Log with follow streams lines as the container writes them', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (c: Buffer) => (text += c.toString()));
    const ticks = (): number[] =>
      text
        .split('\n')
        .filter((l) => l.startsWith('tick '))
        .map((l) => Number(l.split(' ')[1]));
    const abort = await new k8s.Log(kc).log(NS, 'js-ticker', 'c', out, { follow: true, tailLines: 1 });
    try {
      await eventually(() => ticks().length >= 4, { timeoutMs: 20_000, what: `followed lines in ${text}` });
      const seen = ticks();
      // Consecutive lines, each written after the request began (tailLines=1 gave only the first).
      for (let i = 1; i < seen.length; i++) assert.equal(seen[i], (seen[i - 1] ?? 0) + 1, text);
    } finally {
      abort.abort();
    }
  });

  test('Exec with stdin echoes what is written and ends with Success', async () => {
    const stdin = new PassThrough();
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let out = '';
    stdout.on('data', (c: Buffer) => (out += c.toString()));
    let status: k8s.V1Status | undefined;
    const ws = await new k8s.Exec(kc).exec(NS, 'js-ticker', 'c', ['cat'], stdout, stderr, stdin, false, (s) => {
      status = s;
    });
    try {
      stdin.write('hello from js\n');
      await eventually(() => out.includes('hello from js\n'), { timeoutMs: 20_000, what: `the echo in ${out}` });
      stdin.end();
      await eventually(() => status !== undefined, { timeoutMs: 20_000, what: 'the exec status' });
      assert.equal(status?.status, 'Success');
    } finally {
      ws.close();
    }
  });
});
