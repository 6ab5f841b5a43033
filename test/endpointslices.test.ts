// EndpointSlices end to end with a real node agent on the local dockerd: the controller keeps
// slices beside Endpoints (ready/serving/terminating, hostname for StatefulSet pods, owner),
// kubectl describe shows the endpoints, and the apiserver refuses a slice of more than 1000
// endpoints.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { RESOURCES, type KubeObject } from '../pkg/api/index.js';
import type { EndpointSlice, Pod } from '../pkg/api/types/index.js';
import type { RestClient } from '../pkg/client/index.js';
import { ApiError } from '../pkg/errors/index.js';
import { startAgentCluster, type AgentCluster } from './harness/agent-cluster.js';
import { eventually, R } from './harness/clients.js';
import { kubectl, type ControlPlane } from './harness/control-plane.js';
import { isLive } from './harness/pods.js';

const NS = 'default';
let cluster: AgentCluster | undefined;
let plane: ControlPlane;
let client: RestClient;
let home = '';

before(async () => {
  cluster = await startAgentCluster({ plane: { withControllers: true, withScheduler: true } });
  ({ plane, client } = cluster);
  home = mkdtempSync(join(tmpdir(), 'slices-home-'));
});
after(async () => {
  await cluster?.stop();
  if (home !== '') rmSync(home, { recursive: true, force: true });
});

async function ctl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(plane.pki.adminKubeconfig, ['-n', NS, ...args], { home, timeoutMs: 60_000 });
}

async function slicesOf(service: string): Promise<EndpointSlice[]> {
  const list = await client.list(RESOURCES.endpointslices, {
    namespace: NS,
    labelSelector: `kubernetes.io/service-name=${service}`,
  });
  return list.items;
}

function endpointOf(slices: EndpointSlice[], pod: string): EndpointSlice['endpoints'][number] | undefined {
  return slices.flatMap((s) => s.endpoints ?? []).find((e) => e.targetRef?.name === pod);
}

async function pod(name: string): Promise<Pod> {
  return client.get(R.pods, name, { namespace: NS });
}

const service = (name: string, spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name },
  spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http' }], ...spec },
});

test('a StatefulSet behind a headless Service: slices with hostnames beside Endpoints with hostnames', async () => {
  await client.create(R.services, service('nginx', { clusterIP: 'None' }), { namespace: NS });
  await client.create(R.services, service('webc', {}), { namespace: NS });
  await client.create(
    RESOURCES.statefulsets,
    {
      apiVersion: 'apps/v1',
      kind: 'StatefulSet',
      metadata: { name: 'web' },
      spec: {
        replicas: 2,
        serviceName: 'nginx',
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { labels: { app: 'web' } },
          spec: {
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: 'httpd',
                image: 'busybox:latest',
                imagePullPolicy: 'IfNotPresent',
                // Ignores SIGTERM, so a deleted pod stays terminating for a while.
                command: [
                  'sh',
                  '-c',
                  "trap '' TERM; touch /tmp/ready; mkdir -p /www && hostname > /www/index.html && httpd -f -p 8080 -h /www & while true; do sleep 1; done",
                ],
                ports: [{ name: 'http', containerPort: 8080 }],
                readinessProbe: { exec: { command: ['cat', '/tmp/ready'] }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
    { namespace: NS },
  );
  await eventually(
    async () => {
      const slices = await slicesOf('nginx');
      return ['web-0', 'web-1'].every((n) => endpointOf(slices, n)?.conditions?.ready === true);
    },
    { timeoutMs: 120_000, intervalMs: 500, what: 'web-0 and web-1 ready in the nginx slice' },
  );
  const [slice] = await slicesOf('nginx');
  assert.ok(slice !== undefined);
  assert.equal(slice.addressType, 'IPv4');
  assert.equal(slice.metadata.labels?.['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
  assert.equal(slice.metadata.ownerReferences?.[0]?.kind, 'Service');
  assert.deepEqual(slice.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  const web0 = await pod('web-0');
  const web0Endpoint = endpointOf([slice], 'web-0');
  assert.equal(web0Endpoint?.hostname, 'web-0');
  assert.deepEqual(web0Endpoint?.addresses, [web0.status?.podIP]);
  assert.equal(web0Endpoint?.nodeName, web0.spec?.nodeName);
  // The Endpoints carry the hostname too.
  const ep = await client.get(R.endpoints, 'nginx', { namespace: NS });
  assert.ok(ep.subsets?.some((s) => s.addresses?.some((a) => a.hostname === 'web-0' && a.ip === web0.status?.podIP)));
  // kubectl describe service shows the endpoints.
  const described = await ctl(['describe', 'service', 'nginx']);
  assert.equal(described.code, 0, described.stderr);
  assert.match(
    described.stdout,
    new RegExp(`Endpoints:\\s+.*${(web0.status?.podIP ?? '').replace(/\./g, '\\.')}:8080`),
  );

  // The agent's DNS and proxy read these slices: test/multi-host.test.ts runs them (pod
  // network, ClusterIP and DNS by name); pkg/kubelet/dns/dns.test.ts answers web-0.nginx from slices.
});

test('slices follow readiness and termination', async () => {
  // Not ready: the endpoint stays, ready false, serving false.
  assert.equal((await ctl(['exec', 'web-1', '--', 'rm', '/tmp/ready'])).code, 0);
  await eventually(
    async () => {
      const e = endpointOf(await slicesOf('nginx'), 'web-1');
      return e?.conditions?.ready === false && e.conditions.serving === false && e.conditions.terminating === false;
    },
    { timeoutMs: 30_000, what: 'web-1 not ready in the slice' },
  );
  assert.equal((await ctl(['exec', 'web-1', '--', 'touch', '/tmp/ready'])).code, 0);
  await eventually(async () => endpointOf(await slicesOf('nginx'), 'web-1')?.conditions?.ready === true, {
    timeoutMs: 30_000,
    what: 'web-1 ready again',
  });
  // Terminating: it stays (serving, not ready) while its container ignores SIGTERM.
  const uid = (await pod('web-1')).metadata.uid;
  await client.delete(R.pods, 'web-1', { namespace: NS });
  await eventually(
    async () => {
      const e = endpointOf(await slicesOf('nginx'), 'web-1');
      return e?.targetRef?.uid === uid && e?.conditions?.terminating === true && e.conditions.ready === false;
    },
    { timeoutMs: 30_000, what: 'web-1 terminating in the slice' },
  );
  // Gone for good (forced): its endpoint goes with it.
  await client.delete(R.pods, 'web-1', { namespace: NS, gracePeriodSeconds: 0 }).catch(() => undefined);
  await eventually(async () => endpointOf(await slicesOf('nginx'), 'web-1')?.targetRef?.uid !== uid, {
    timeoutMs: 60_000,
    what: 'the old web-1 gone from the slice',
  });
  assert.ok(isLive(await pod('web-0')));
});

test('a slice of more than 1000 endpoints is refused with 422 and nothing is stored', async () => {
  const endpoints = Array.from({ length: 1001 }, (_, i) => ({
    addresses: [`10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`],
  }));
  const err = await client
    .create(
      RESOURCES.endpointslices,
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: 'huge' },
        addressType: 'IPv4',
        endpoints,
      },
      { namespace: NS },
    )
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  assert.ok(err instanceof ApiError && err.code === 422, `422, got ${String(err)}`);
  assert.match(err.message, /endpoints: Too many: 1001: must have at most 1000 items/);
  const gone = await client.get(RESOURCES.endpointslices, 'huge', { namespace: NS }).then(
    () => false,
    () => true,
  );
  assert.ok(gone);
  // Deleting the Service takes its slices.
  await client.delete(R.services, 'webc', { namespace: NS });
  await eventually(async () => (await slicesOf('webc')).length === 0, { timeoutMs: 30_000, what: 'webc slices gone' });
});
