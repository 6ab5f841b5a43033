// The smaller API details of issue 12, with the real kubectl and raw requests, hostile cases
// beside the happy ones: booleans as Go parses them (400 naming the parameter otherwise),
// list pagination (consistent pages, 400 for a bad limit or token, 410 for an expired one),
// kubectl logs --since-time/--since/--limit-bytes/--tail/--timestamps (400 and 422 for bad
// values), DELETE answers, create --dry-run=server of an existing name, pods without
// generation, DaemonSet status counts, and rollout undo reusing the old ReplicaSet.

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { RESOURCES } from '../pkg/api/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { adminClient, eventually } from './harness/clients.js';
import { kubectl, startControlPlane, type ControlPlane, type NodeAgent } from './harness/control-plane.js';
import { rawRequest, type RawResponse } from './harness/https.js';
import { startBusyboxPod } from './harness/pods.js';

const NS = 'default';

let cluster: AgentCluster | undefined;
let plane: ControlPlane;
let agent: NodeAgent;
let client: RestClient;
let home: string;

interface Creds {
  ca: string;
  cert: string;
  key: string;
}

function credsOf(p: ControlPlane): Creds {
  return {
    ca: readFileSync(p.pki.caCert, 'utf8'),
    cert: readFileSync(p.pki.adminCert, 'utf8'),
    key: readFileSync(p.pki.adminKey, 'utf8'),
  };
}

function send(p: ControlPlane, req: { method: string; path: string; body?: unknown }): Promise<RawResponse> {
  const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
  return rawRequest({
    port: p.port,
    method: req.method,
    path: req.path,
    ...credsOf(p),
    ...(payload !== undefined
      ? {
          body: payload,
          headers: { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(payload)) },
        }
      : {}),
  });
}

function json(res: RawResponse): Record<string, unknown> {
  return JSON.parse(res.body) as Record<string, unknown>;
}

/** A refused request: the code and reason, a Status (with the field named when said), and the server still healthy. */
async function refused(
  p: ControlPlane,
  path: string,
  expect: { code: number; reason: string; field?: string; message?: RegExp },
): Promise<void> {
  const res = await send(p, { method: 'GET', path });
  assert.equal(res.status, expect.code, `${path}: ${res.body}`);
  const status = json(res) as {
    kind?: string;
    reason?: string;
    message?: string;
    details?: { causes?: { field?: string }[] };
  };
  assert.equal(status.kind, 'Status', path);
  assert.equal(status.reason, expect.reason, path);
  if (expect.field !== undefined)
    assert.ok(
      (status.details?.causes ?? []).some((c) => c.field === expect.field) ||
        (status.message ?? '').startsWith(`${expect.field}:`),
      `${path}: ${res.body}`,
    );
  if (expect.message !== undefined) assert.match(status.message ?? '', expect.message, path);
  assert.equal((await send(p, { method: 'GET', path: '/healthz' })).status, 200);
}

async function k(...args: string[]): Promise<string> {
  const res = await kubectl(plane.pki.adminKubeconfig, args, { home });
  assert.equal(res.code, 0, `kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

async function configMap(name: string, namespace: string): Promise<void> {
  await client.create(
    RESOURCES.configmaps,
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { v: name } },
    { namespace },
  );
}

before(async () => {
  cluster = await startAgentCluster({ plane: { withControllers: true } });
  ({ plane, agent, client } = cluster);
  home = mkdtempSync(join(tmpdir(), 'api-details-'));
  const script = 'echo early; sleep 2; echo late; exec sleep 3600';
  await startBusyboxPod(client, { name: 'talker', namespace: NS, nodeName: agent.name }, script);
});
after(async () => {
  await cluster?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('boolean query parameters', () => {
  test('True, 1 and t are true; F is false; anything else is 400 naming the parameter', async () => {
    // watch=True is a watch (a stream that ends at timeoutSeconds), watch=F a plain list.
    const watched = await send(plane, {
      method: 'GET',
      path: '/api/v1/namespaces/default/pods?watch=True&timeoutSeconds=1',
    });
    assert.equal(watched.status, 200);
    assert.match(watched.body, /^\{"type":"ADDED"/);
    const listed = json(await send(plane, { method: 'GET', path: '/api/v1/namespaces/default/pods?watch=F' }));
    assert.equal(listed['kind'], 'PodList');
    for (const path of [
      '/api/v1/namespaces/default/pods?watch=maybe',
      '/api/v1/namespaces/default/pods?watch=1&allowWatchBookmarks=yes',
      '/api/v1/namespaces/default/configmaps?pretty=sure',
      '/api/v1/namespaces/default/pods/talker/log?follow=tRUE',
      '/api/v1/namespaces/default/pods/talker/log?timestamps=on',
    ]) {
      const name = /[?&]([a-zA-Z]+)=(maybe|yes|sure|tRUE|on)/.exec(path)?.[1];
      await refused(plane, path, { code: 400, reason: 'BadRequest', ...(name !== undefined && { field: name }) });
    }
  });

  test('an exec upgrade with stdin=maybe is refused with a 400 Status; stdin=True gets an interactive exec', async () => {
    const creds = credsOf(plane);
    const open = (query: string): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(
          `wss://127.0.0.1:${plane.port}/api/v1/namespaces/default/pods/talker/exec?command=cat&stdout=True&${query}`,
          ['v4.channel.k8s.io'],
          { ...creds },
        );
        ws.once('unexpected-response', (_req, res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        ws.once('open', () => {
          let out = '';
          ws.on('message', (data: Buffer) => {
            if (data[0] === 1) out += data.subarray(1).toString();
            if (out.includes('ping')) {
              ws.close();
              resolve({ status: 101, body: out });
            }
          });
          ws.send(Buffer.concat([Buffer.from([0]), Buffer.from('ping\n')]));
        });
        ws.once('error', reject);
      });
    const bad = await open('stdin=maybe');
    assert.equal(bad.status, 400);
    assert.equal((JSON.parse(bad.body) as { reason: string }).reason, 'BadRequest');
    assert.match(bad.body, /stdin/);
    const good = await open('stdin=True');
    assert.equal(good.status, 101);
    assert.equal(good.body, 'ping\n');
  });
});

describe('list pagination', () => {
  test('pages are one consistent list at the first page’s revision; kubectl --chunk-size pages through', async () => {
    await client.create(RESOURCES.namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'pages' } });
    for (const n of ['b', 'c', 'd', 'e', 'f']) await configMap(n, 'pages');
    const first = json(await send(plane, { method: 'GET', path: '/api/v1/namespaces/pages/configmaps?limit=2' }));
    const meta = first['metadata'] as { resourceVersion: string; continue?: string; remainingItemCount?: number };
    const names = (list: Record<string, unknown>): string[] =>
      (list['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name);
    // The root CA publisher may add kube-root-ca.crt to the namespace: it is not ours to count.
    const ours = (list: string[]): string[] => list.filter((n) => n !== 'kube-root-ca.crt');
    assert.deepEqual(names(first), ['b', 'c']);
    assert.ok((meta.remainingItemCount ?? 0) >= 3, JSON.stringify(meta));
    assert.ok(meta.continue !== undefined);
    // Changes after the first page are not in the later pages.
    await configMap('a', 'pages');
    await configMap('g', 'pages');
    await client.delete(RESOURCES.configmaps, 'e', { namespace: 'pages' });
    const seen = names(first);
    let token: string | undefined = meta.continue;
    for (let page = 0; page < 10 && token !== undefined; page++) {
      const next = json(
        await send(plane, {
          method: 'GET',
          path: `/api/v1/namespaces/pages/configmaps?limit=2&continue=${encodeURIComponent(token)}`,
        }),
      );
      seen.push(...names(next));
      const m = next['metadata'] as { resourceVersion: string; continue?: string };
      assert.equal(m.resourceVersion, meta.resourceVersion);
      token = m.continue;
    }
    assert.deepEqual(ours(seen), ['b', 'c', 'd', 'e', 'f']);
    const chunked = await k('get', 'configmaps', '-n', 'pages', '--chunk-size=2', '-o', 'name');
    assert.deepEqual(
      ours(
        chunked
          .trim()
          .split('\n')
          .map((l) => l.replace('configmap/', '')),
      ),
      ['a', 'b', 'c', 'd', 'f', 'g'],
    );
  });

  test('a bad limit or a malformed token is 400; the server stays healthy', async () => {
    await refused(plane, '/api/v1/configmaps?limit=abc', { code: 400, reason: 'BadRequest', field: 'limit' });
    await refused(plane, '/api/v1/configmaps?limit=1.5', { code: 400, reason: 'BadRequest', field: 'limit' });
    const forged = Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 5, start: '../../secrets/' })).toString(
      'base64url',
    );
    for (const token of ['garbage!', 'e30', forged])
      await refused(plane, `/api/v1/namespaces/pages/configmaps?limit=1&continue=${encodeURIComponent(token)}`, {
        code: 400,
        reason: 'BadRequest',
        message: /^invalid continue token/,
      });
  });
});

describe('kubectl logs options', () => {
  test('--since-time, --since, --limit-bytes, --tail and --timestamps', async () => {
    await eventually(async () => (await k('logs', 'talker')).includes('late'), { timeoutMs: 20_000, what: 'late' });
    assert.equal(await k('logs', 'talker'), 'early\nlate\n');
    const stamped = (await k('logs', 'talker', '--timestamps')).trim().split('\n');
    assert.equal(stamped.length, 2);
    for (const line of stamped) assert.match(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z (early|late)$/);
    const lateAt = (stamped[1] ?? '').split(' ')[0] ?? '';
    assert.equal(await k('logs', 'talker', `--since-time=${lateAt}`), 'late\n');
    assert.equal(await k('logs', 'talker', '--since=1h'), 'early\nlate\n');
    assert.equal(await k('logs', 'talker', '--limit-bytes=3'), 'ear');
    assert.equal(await k('logs', 'talker', '--tail=1'), 'late\n');
  });

  test('bad values: 400 when they do not decode, 422 when out of range', async () => {
    const log = '/api/v1/namespaces/default/pods/talker/log';
    await refused(plane, `${log}?sinceSeconds=ten`, { code: 400, reason: 'BadRequest', field: 'sinceSeconds' });
    await refused(plane, `${log}?sinceTime=yesterday`, { code: 400, reason: 'BadRequest', field: 'sinceTime' });
    await refused(plane, `${log}?limitBytes=1k`, { code: 400, reason: 'BadRequest', field: 'limitBytes' });
    await refused(plane, `${log}?tailLines=x`, { code: 400, reason: 'BadRequest', field: 'tailLines' });
    await refused(plane, `${log}?limitBytes=0`, { code: 422, reason: 'Invalid', field: 'limitBytes' });
    await refused(plane, `${log}?sinceSeconds=0`, { code: 422, reason: 'Invalid', field: 'sinceSeconds' });
    await refused(plane, `${log}?sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z`, {
      code: 422,
      reason: 'Invalid',
      field: 'sinceSeconds',
    });
  });
});

describe('answers as Kubernetes gives them', () => {
  test('DELETE: a Success Status for what went at once, the object for pods and for what waits', async () => {
    await configMap('doomed', NS);
    const gone = json(await send(plane, { method: 'DELETE', path: '/api/v1/namespaces/default/configmaps/doomed' }));
    assert.equal(gone['kind'], 'Status');
    assert.equal(gone['status'], 'Success');
    assert.deepEqual(Object.keys(gone), ['kind', 'apiVersion', 'metadata', 'status', 'details']);
    assert.equal((gone['details'] as { name: string; kind: string }).name, 'doomed');
    assert.equal((gone['details'] as { name: string; kind: string }).kind, 'configmaps');
    await client.create(
      RESOURCES.configmaps,
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] } },
      { namespace: NS },
    );
    const held = await send(plane, { method: 'DELETE', path: '/api/v1/namespaces/default/configmaps/held' });
    assert.equal(held.status, 200);
    assert.equal(json(held)['kind'], 'ConfigMap');
    const explicit = await send(plane, {
      method: 'DELETE',
      path: '/api/v1/namespaces/default/configmaps/held',
      body: { kind: 'DeleteOptions', apiVersion: 'v1', orphanDependents: false },
    });
    assert.equal(explicit.status, 202);
    await client.patch(RESOURCES.configmaps, 'held', {
      namespace: NS,
      type: 'merge',
      body: { metadata: { finalizers: null } },
    });
    const missing = json(await send(plane, { method: 'GET', path: '/api/v1/namespaces/default/configmaps/nope' }));
    assert.deepEqual(Object.keys(missing), [
      'kind',
      'apiVersion',
      'metadata',
      'status',
      'message',
      'reason',
      'details',
      'code',
    ]);
    const unknown = json(await send(plane, { method: 'GET', path: '/api/v1/nonsense' }));
    assert.deepEqual(unknown['details'], {});
  });

  test('pods have no generation; a DaemonSet is created with its status counts', async () => {
    const talker = json(await send(plane, { method: 'GET', path: '/api/v1/namespaces/default/pods/talker' }));
    assert.equal((talker['metadata'] as Record<string, unknown>)['generation'], undefined);
    const ds = await client.create(
      RESOURCES.daemonsets,
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'counted' },
        spec: {
          selector: { matchLabels: { app: 'counted' } },
          template: {
            metadata: { labels: { app: 'counted' } },
            spec: { nodeSelector: { none: 'here' }, containers: [{ name: 'c', image: 'busybox:latest' }] },
          },
        },
      },
      { namespace: NS },
    );
    assert.deepEqual(ds.status, {
      currentNumberScheduled: 0,
      numberMisscheduled: 0,
      desiredNumberScheduled: 0,
      numberReady: 0,
    });
    await client.delete(RESOURCES.daemonsets, 'counted', { namespace: NS });
  });

  test('kubectl create --dry-run=server of an existing name is AlreadyExists, and creates nothing', async () => {
    await configMap('exists', NS);
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'exists' } });
    const res = await kubectl(plane.pki.adminKubeconfig, ['create', '--dry-run=server', '-f', '-'], {
      home,
      input: manifest,
    });
    assert.notEqual(res.code, 0);
    assert.match(res.stderr, /AlreadyExists|already exists/);
    const fresh = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry-new' } });
    const dry = await kubectl(plane.pki.adminKubeconfig, ['create', '--dry-run=server', '-f', '-'], {
      home,
      input: fresh,
    });
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /configmap\/dry-new created \(server dry run\)/);
    assert.equal(
      (await send(plane, { method: 'GET', path: '/api/v1/namespaces/default/configmaps/dry-new' })).status,
      404,
    );
  });

  test('kubectl rollout undo reuses the old ReplicaSet', async () => {
    const manifest = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'undo' },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'undo' } },
        template: {
          metadata: { labels: { app: 'undo' } },
          spec: { nodeSelector: { none: 'here' }, containers: [{ name: 'c', image: 'busybox:1' }] },
        },
      },
    });
    const applied = await kubectl(plane.pki.adminKubeconfig, ['apply', '-f', '-'], { home, input: manifest });
    assert.equal(applied.code, 0, applied.stderr);
    const replicaSets = async (): Promise<string[]> =>
      (await k('get', 'rs', '-l', 'app=undo', '-o', 'name')).trim().split('\n').filter(Boolean);
    await eventually(async () => (await replicaSets()).length === 1, { timeoutMs: 20_000, what: 'first RS' });
    await k('set', 'image', 'deployment/undo', 'c=busybox:2');
    await eventually(async () => (await replicaSets()).length === 2, { timeoutMs: 20_000, what: 'second RS' });
    const before = (await replicaSets()).sort();
    await k('rollout', 'undo', 'deployment/undo');
    // The controller picks the ReplicaSet for a template before it reports the generation seen:
    // a duplicate would exist by then.
    await eventually(
      async () => (await k('get', 'deploy', 'undo', '-o', 'jsonpath={.status.observedGeneration}')) === '3',
      { timeoutMs: 20_000, what: 'the undo observed' },
    );
    assert.deepEqual((await replicaSets()).sort(), before);
    assert.equal(
      await k('get', 'deploy', 'undo', '-o', 'jsonpath={.spec.template.spec.containers[0].image}'),
      'busybox:1',
    );
  });
});

describe('an expired continue token', () => {
  test('is 410 Expired with Kubernetes’ message and a token to go on at the latest revision', async () => {
    const small = await startControlPlane({ extraArgs: ['--watch-history', '5', '--compaction-interval', '1'] });
    const smallClient = adminClient(small);
    try {
      for (const n of ['a', 'b', 'c'])
        await smallClient.create(
          RESOURCES.configmaps,
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: n } },
          { namespace: NS },
        );
      const first = json(await send(small, { method: 'GET', path: '/api/v1/namespaces/default/configmaps?limit=1' }));
      const token = (first['metadata'] as { continue: string }).continue;
      for (let i = 0; i < 20; i++)
        await smallClient.patch(RESOURCES.configmaps, 'c', {
          namespace: NS,
          type: 'merge',
          body: { data: { i: String(i) } },
        });
      let answer: RawResponse | undefined;
      await eventually(
        async () => {
          answer = await send(small, {
            method: 'GET',
            path: `/api/v1/namespaces/default/configmaps?limit=1&continue=${encodeURIComponent(token)}`,
          });
          return answer.status === 410;
        },
        { timeoutMs: 20_000, intervalMs: 250, what: 'the token to expire' },
      );
      const status = json(answer ?? { status: 0, headers: {}, body: '{}' });
      assert.equal(status['reason'], 'Expired');
      assert.match(
        String(status['message']),
        /^The provided continue parameter is too old to display a consistent list result/,
      );
      const fresh = (status['metadata'] as { continue?: string }).continue;
      assert.ok(fresh !== undefined);
      const rest = json(
        await send(small, {
          method: 'GET',
          path: `/api/v1/namespaces/default/configmaps?limit=5&continue=${encodeURIComponent(fresh)}`,
        }),
      );
      assert.deepEqual(
        (rest['items'] as { metadata: { name: string } }[]).map((i) => i.metadata.name).filter((n) => n.length === 1),
        ['b', 'c'],
      );
    } finally {
      smallClient.close();
      await small.stop();
    }
  });
});
