// The web dashboard in a real browser (Debian's chromium through playwright-core) against a
// real cluster: control plane, scheduler, controllers and a node agent running Docker
// containers. Signed in with a ServiceAccount token made by `kubectl create token`, the pages
// follow the cluster live (a pod kubectl creates appears without a reload; the scale button
// makes pods follow), a pod's log is read and a shell typed into; a namespace-scoped viewer
// sees its pods but not the nodes; hostile paths, bad tokens and missing credentials are refused.
// A screenshot of each page goes to a temporary folder printed in the log (or $DASHBOARD_SCREENSHOTS).
//
// DASHBOARD_SIM_HOSTS=N runs it on N simulated hosts numbered from 20 instead of one local agent
// (how the README's screenshots are taken: a multi-host host map).

import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import WebSocket from 'ws';
import { RESOURCES } from '../pkg/api/registry.js';
import type { RestClient } from '../pkg/client/index.js';
import { startAgentCluster } from './harness/agent-cluster.js';
import { eventually } from './harness/clients.js';
import { kubectl, REPO, type ControlPlane } from './harness/control-plane.js';
import { TICKING } from './harness/pods.js';
import { rawRequest, type RawResponse } from './harness/https.js';
import { startSimCluster } from './harness/sim-hosts.js';

const CHROMIUM = '/usr/bin/chromium';
const SIM_HOSTS = Number(process.env['DASHBOARD_SIM_HOSTS'] ?? '0');

let cluster: { plane: ControlPlane; client: RestClient; nodes: string[]; stop(): Promise<void> };
let home: string;
let shots: string;
let browser: Browser;
let admin: BrowserContext;
let page: Page;
let adminToken: string;

async function k(args: string[], input?: string): Promise<string> {
  const res = await kubectl(cluster.plane.pki.adminKubeconfig, args, {
    home,
    ...(input === undefined ? {} : { input }),
  });
  assert.equal(res.code, 0, `kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

/** A token for a new ServiceAccount, bound to `role` cluster-wide or in its namespace. */
async function tokenFor(sa: {
  namespace: string;
  name: string;
  clusterRole: string;
  clusterWide: boolean;
}): Promise<string> {
  await k(['-n', sa.namespace, 'create', 'serviceaccount', sa.name]);
  const subject = `--serviceaccount=${sa.namespace}:${sa.name}`;
  if (sa.clusterWide) await k(['create', 'clusterrolebinding', sa.name, `--clusterrole=${sa.clusterRole}`, subject]);
  else await k(['-n', sa.namespace, 'create', 'rolebinding', sa.name, `--clusterrole=${sa.clusterRole}`, subject]);
  return (await k(['-n', sa.namespace, 'create', 'token', sa.name, '--duration=1h'])).trim();
}

async function shoot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

/** A raw HTTPS request to the apiserver without a client certificate; the path is sent as written. */
function raw(path: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  const { hostname } = new URL(cluster.plane.server);
  return rawRequest({ host: hostname, port: cluster.plane.port, method: 'GET', path, headers });
}

/** Page waits (every context's default): chromium shares the 2 cores with the cluster and another test file in CI. */
const PAGE_TIMEOUT_MS = 90_000;

/**
 * Opens a dashboard URL. Chromium aborts a navigation with ERR_NETWORK_CHANGED when the
 * machine's interfaces change, and other test files add and remove simulated hosts' links
 * meanwhile: such a navigation is tried again (bounded).
 */
async function open(p: Page, path: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await p.goto(`${cluster.plane.server}${path}`);
      return;
    } catch (err) {
      if (attempt >= 5 || !/ERR_NETWORK_CHANGED/.test(String(err))) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

async function signIn(context: BrowserContext, token: string): Promise<Page> {
  context.setDefaultTimeout(PAGE_TIMEOUT_MS);
  const p = await context.newPage();
  await open(p, '/ui/');
  await p.locator('textarea[name="token"]').fill(token);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.locator('[data-testid="who"]').waitFor();
  return p;
}

/** A browser context presenting the cluster admin's client certificate (no token). */
async function adminCertificateContext(): Promise<BrowserContext> {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true,
    clientCertificates: [
      { origin: cluster.plane.server, certPath: cluster.plane.pki.adminCert, keyPath: cluster.plane.pki.adminKey },
    ],
  });
  context.setDefaultTimeout(PAGE_TIMEOUT_MS);
  return context;
}

const go = (p: Page, hash: string): Promise<void> =>
  p.evaluate((h) => {
    location.hash = h;
  }, hash);

before(async () => {
  // No silent skip: the browser is part of the set-up (scripts/setup-host.sh installs it).
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run scripts/setup-host.sh (it installs Debian's chromium)`);
  assert.ok(
    existsSync(join(REPO, 'dist', 'pkg', 'dashboard', 'static', 'index.html')),
    'the dashboard is not built: run npm run build',
  );
  home = mkdtempSync(join(tmpdir(), 'dashboard-home-'));
  shots = process.env['DASHBOARD_SCREENSHOTS'] ?? mkdtempSync(join(tmpdir(), 'dashboard-screenshots-'));
  mkdirSync(shots, { recursive: true });
  process.stdout.write(`# dashboard screenshots: ${shots}\n`);
  if (SIM_HOSTS > 0) {
    const sim = await startSimCluster({ hosts: SIM_HOSTS, first: 20, graceSeconds: 40 });
    cluster = { plane: sim.plane, client: sim.client, nodes: sim.hosts.map((h) => h.ns), stop: () => sim.stop() };
  } else {
    const c = await startAgentCluster({ plane: { withControllers: true, withScheduler: true } });
    cluster = { plane: c.plane, client: c.client, nodes: [c.agent.name], stop: () => c.stop() };
  }
  adminToken = await tokenFor({
    namespace: 'kube-system',
    name: 'dashboard-admin',
    clusterRole: 'cluster-admin',
    clusterWide: true,
  });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  // The cluster CA is not the browser's: its certificate is accepted for this test only.
  admin = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  admin.setDefaultTimeout(PAGE_TIMEOUT_MS);
});

after(async () => {
  await browser?.close();
  await cluster?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

test('hostile: traversal paths are 404, a bad token is 401, no credentials read nothing', async () => {
  assert.equal((await raw('/ui/')).status, 200);
  for (const path of ['/ui/../../etc/passwd', '/ui/..%2f..%2fetc%2fpasswd', '/ui/%2e%2e/%2e%2e/etc/passwd']) {
    const answer = await raw(path);
    assert.equal(answer.status, 404, path);
    assert.doesNotMatch(answer.body, /root:/);
  }
  assert.equal((await raw('/api/v1/pods', { Authorization: 'Bearer not-a-token' })).status, 401);
  // Anonymous, as in Kubernetes: authenticated as system:anonymous, which RBAC lets list nothing.
  const anonymous = await raw('/api/v1/pods');
  assert.ok([401, 403].includes(anonymous.status), `anonymous list: ${anonymous.status}`);
  assert.doesNotMatch(anonymous.body, /"items"/);
});

/** A websocket watch of namespaces with the token in Kubernetes' bearer subprotocol: the protocol chosen, or the refusal's code. */
function bearerWatch(token: string): Promise<{ protocol: string; event: string } | { refused: number }> {
  const encoded = Buffer.from(token).toString('base64url');
  const url = `wss://${new URL(cluster.plane.server).host}/api/v1/namespaces?watch=true`;
  const ws = new WebSocket(url, [`base64url.bearer.authorization.k8s.io.${encoded}`, 'watch.test.k8s.io'], {
    rejectUnauthorized: false,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer to the websocket watch')), 15_000);
    ws.once('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      resolve({ refused: res.statusCode ?? 0 });
      res.resume();
    });
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      resolve({ protocol: ws.protocol, event: data.toString() });
      ws.close();
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

test('websocket bearer subprotocol: a good token watches (the token is not echoed back), a bad one is 401', async () => {
  const good = await bearerWatch(adminToken);
  assert.ok('protocol' in good, JSON.stringify(good));
  assert.equal(good.protocol, 'watch.test.k8s.io');
  assert.match(good.event, /"type":"ADDED"/);
  assert.deepEqual(await bearerWatch('not-a-token'), { refused: 401 });
});

test('a bad token gets the sign-in page back with an error', async () => {
  const p = await admin.newPage();
  await open(p, '/ui/');
  await p.locator('[data-testid="signin"]').waitFor();
  await p.locator('textarea[name="token"]').fill('eyJhbGciOiJSUzI1NiJ9.bm90.cmVhbA');
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.locator('[data-testid="signin-error"]').waitFor();
  assert.match(await p.locator('[data-testid="signin-error"]').innerText(), /not accepted/);
  page = p;
  await shoot('signin');
  await p.close();
});

test('signed in, the nodes page shows every node with its allocation', async () => {
  page = await signIn(admin, adminToken);
  assert.match(
    await page.locator('[data-testid="who"]').innerText(),
    /system:serviceaccount:kube-system:dashboard-admin/,
  );
  for (const node of cluster.nodes) await page.locator(`tr[data-node="${node}"]`).waitFor();
  await eventually(
    async () => /Ready/.test(await page.locator(`tr[data-node="${cluster.nodes[0] ?? ''}"]`).innerText()),
    {
      timeoutMs: 60_000,
      what: 'the node shown Ready',
    },
  );
  if (SIM_HOSTS > 0) await k(['apply', '-f', join(REPO, 'manifests')]);
});

test('a pod created by kubectl appears without a reload', async () => {
  await go(page, '#/pods?ns=default');
  await eventually(async () => !/Loading/.test(await page.locator('[data-testid="pods"]').innerText()), {
    timeoutMs: 15_000,
    what: 'the pods list loaded',
  });
  await k([
    'run',
    'ticker',
    '--image=busybox:latest',
    '--image-pull-policy=IfNotPresent',
    '--command',
    '--',
    'sh',
    '-c',
    TICKING,
  ]);
  const row = page.locator('tr[data-pod="default/ticker"]');
  await row.waitFor();
  await eventually(async () => /Running/.test(await row.innerText()), {
    timeoutMs: 90_000,
    what: 'ticker Running on the page',
  });
  await shoot('pods');
});

test('the scale button on a Deployment makes the pods follow', async () => {
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: {
          terminationGracePeriodSeconds: 1,
          containers: [
            { name: 'web', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'] },
          ],
        },
      },
    },
  };
  await k(['apply', '-f', '-'], JSON.stringify(deployment));
  await go(page, '#/workloads?ns=default');
  const row = page.locator('tr[data-workload="Deployment/default/web"]');
  await eventually(
    async () =>
      (await row
        .locator('[data-testid="replicas"]')
        .innerText()
        .catch(() => '')) === '1/1',
    {
      timeoutMs: 90_000,
      what: 'web 1/1 on the page',
    },
  );
  await row.getByRole('button', { name: 'scale web up' }).click();
  const webPods = async (): Promise<number> =>
    (await cluster.client.list(RESOURCES.pods, { namespace: 'default', labelSelector: 'app=web' })).items.filter(
      (p) => p.metadata.deletionTimestamp === undefined && p.status?.phase === 'Running',
    ).length;
  await eventually(async () => (await webPods()) === 2, { timeoutMs: 180_000, what: 'two web pods Running' });
  await eventually(async () => (await row.locator('[data-testid="replicas"]').innerText()) === '2/2', {
    timeoutMs: 30_000,
    what: 'web 2/2 on the page',
  });
  await shoot('workloads');
});

test('rollout restart and undo buttons', async () => {
  const restartedAt = async (): Promise<string | undefined> =>
    (await cluster.client.get(RESOURCES.deployments, 'web', { namespace: 'default' })).spec?.template?.metadata
      ?.annotations?.['kubectl.kubernetes.io/restartedAt'];
  const row = page.locator('tr[data-workload="Deployment/default/web"]');
  await row.getByRole('button', { name: 'Restart' }).click();
  await eventually(async () => (await restartedAt()) !== undefined, { timeoutMs: 15_000, what: 'restartedAt set' });
  // The restart's ReplicaSet is revision 2; undo goes back to revision 1's template.
  await eventually(
    async () =>
      (await cluster.client.list(RESOURCES.replicasets, { namespace: 'default', labelSelector: 'app=web' })).items
        .length === 2,
    { timeoutMs: 30_000, what: "the restart's new ReplicaSet" },
  );
  await eventually(
    async () =>
      (await cluster.client.get(RESOURCES.deployments, 'web', { namespace: 'default' })).metadata.annotations?.[
        'deployment.kubernetes.io/revision'
      ] === '2',
    { timeoutMs: 30_000, what: 'the Deployment at revision 2' },
  );
  await row.getByRole('button', { name: 'Undo' }).click();
  await eventually(async () => (await restartedAt()) === undefined, { timeoutMs: 15_000 }).catch(
    async (err: unknown) => {
      throw new Error(`not rolled back (${String(err)}); the row says: ${await row.innerText()}`);
    },
  );
});

test("a pod's page follows its log", async () => {
  await go(page, '#/pod/default/ticker?ns=default');
  const logs = page.locator('[data-testid="logs"]');
  await logs.waitFor();
  await eventually(async () => /tick \d+/.test(await logs.innerText()), {
    timeoutMs: 30_000,
    what: 'a tick in the log',
  });
  // Followed: later lines arrive on the open page.
  const seen = Number(/tick (\d+)\s*$/.exec(await logs.innerText())?.[1] ?? '0');
  await eventually(async () => Number(/tick (\d+)\s*$/.exec(await logs.innerText())?.[1] ?? '0') > seen + 2, {
    timeoutMs: 30_000,
    what: 'newer ticks in the followed log',
  });
  await shoot('pod-logs');
});

test('a log page opened while its container waits keeps trying, then follows the log', async () => {
  // An init container holds the app container back for 8 s: until then its log cannot be read.
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'late-ticker' },
    spec: {
      initContainers: [
        { name: 'hold', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sleep', '8'] },
      ],
      containers: [
        { name: 'app', image: 'busybox:latest', imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', TICKING] },
      ],
    },
  };
  await k(['apply', '-f', '-'], JSON.stringify(pod));
  await go(page, '#/pod/default/late-ticker?ns=default');
  const logs = page.locator('[data-testid="logs"]');
  await logs.waitFor();
  await eventually(async () => /trying again/.test(await page.locator('[data-testid="pod-page"]').innerText()), {
    timeoutMs: 30_000,
    what: 'the log view saying it tries again',
  });
  await eventually(async () => /tick \d+/.test(await logs.innerText()), {
    timeoutMs: 90_000,
    what: 'ticks once the container runs',
  });
  // The next test works in ticker's page.
  await go(page, '#/pod/default/ticker?ns=default');
  await page.locator('[data-testid="logs"]').waitFor();
});

test('`echo hi` typed in the exec terminal prints hi', async () => {
  await page.getByRole('button', { name: 'Terminal' }).click();
  const terminal = page.locator('[data-testid="terminal"]');
  await terminal.locator('.xterm-rows').waitFor();
  // The prompt first: what is typed before the shell reads is not lost, but the prompt says it is ready.
  await eventually(async () => /[#$]\s*$/m.test(await terminal.locator('.xterm-rows').innerText()), {
    timeoutMs: 30_000,
    what: 'the shell prompt',
  });
  await terminal.click();
  await page.keyboard.type('echo hi\n');
  await eventually(
    async () => (await terminal.locator('.xterm-rows').innerText()).split('\n').some((line) => line.trim() === 'hi'),
    { timeoutMs: 30_000, what: 'hi printed in the terminal' },
  );
  await shoot('pod-terminal');
});

test('the host map, namespaces, events and apply pages', async () => {
  await go(page, '#/map');
  for (const node of cluster.nodes) await page.locator(`[data-host="${node}"]`).waitFor();
  await eventually(async () => /ticker/.test(await page.locator('[data-testid="hostmap"]').innerText()), {
    timeoutMs: 15_000,
    what: 'ticker on the host map',
  });
  await shoot('hostmap');
  await go(page, '#/nodes');
  await page.locator(`tr[data-node="${cluster.nodes[0] ?? ''}"]`).waitFor();
  await shoot('nodes');
  await go(page, '#/namespaces');
  await page.getByRole('link', { name: 'kube-system' }).waitFor();
  await shoot('namespaces');
  await go(page, '#/events');
  await eventually(
    async () => /Scheduled|Started|Created/.test(await page.locator('[data-testid="events"]').innerText()),
    {
      timeoutMs: 30_000,
      what: 'events on the page',
    },
  );
  await shoot('events');
  await go(page, '#/workloads');
  await page.locator('tr[data-workload="Deployment/default/web"]').waitFor();
  await shoot('workloads-all-namespaces');
  await go(page, '#/apply?ns=default');
  await page
    .locator('[data-testid="apply"] textarea')
    .fill('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-the-page\ndata:\n  greeting: hello\n');
  await page.getByRole('button', { name: 'Apply' }).click();
  await page.getByText('configmap/from-the-page created').waitFor();
  const cm = await cluster.client.get(RESOURCES.configmaps, 'from-the-page', { namespace: 'default' });
  assert.equal(cm.data?.['greeting'], 'hello');
  assert.match(JSON.stringify(cm.metadata.managedFields ?? []), /"manager":"coxswain-dashboard"/);
  await shoot('apply');
});

test('a namespace-scoped viewer sees its pods, not the nodes', async () => {
  await k(['create', 'namespace', 'team-a']);
  const token = await tokenFor({ namespace: 'team-a', name: 'viewer', clusterRole: 'view', clusterWide: false });
  await k([
    '-n',
    'team-a',
    'run',
    'quiet',
    '--image=busybox:latest',
    '--image-pull-policy=IfNotPresent',
    '--',
    'sleep',
    '3600',
  ]);
  const context = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } });
  try {
    const viewer = await signIn(context, token);
    await go(viewer, '#/pods?ns=team-a');
    await viewer.locator('tr[data-pod="team-a/quiet"]').waitFor();
    await go(viewer, '#/nodes');
    await viewer.locator('[data-testid="nodes"] [data-testid="not-allowed"]').waitFor();
    assert.equal(await viewer.locator('tr[data-node]').count(), 0);
    await go(viewer, '#/pods');
    await viewer.locator('[data-testid="pods"] [data-testid="not-allowed"]').waitFor();
    assert.equal(await viewer.locator('tr[data-pod="default/ticker"]').count(), 0);
    page = viewer;
    await shoot('viewer-not-allowed');
  } finally {
    await context.close();
  }
});

test("a browser presenting the cluster's client certificate is signed in without a token", async () => {
  const context = await adminCertificateContext();
  try {
    const p = await context.newPage();
    await open(p, '/ui/#/nodes');
    await p.locator('[data-testid="who"]').waitFor();
    assert.doesNotMatch(await p.locator('[data-testid="who"]').innerText(), /serviceaccount/);
    await p.locator(`tr[data-node="${cluster.nodes[0] ?? ''}"]`).waitFor();
  } finally {
    await context.close();
  }
});

test('a sign-in check the network breaks is tried again, and the certificate then signs the browser in', async () => {
  const context = await adminCertificateContext();
  try {
    const p = await context.newPage();
    // The first four reviews fail as a network change would make them fail: the first check's
    // three tries, then one more of the check the page makes again.
    let broken = 0;
    await p.route('**/apis/authentication.k8s.io/v1/selfsubjectreviews', async (route) => {
      if (broken < 4) {
        broken++;
        await route.abort('internetdisconnected');
      } else await route.continue();
    });
    await open(p, '/ui/#/nodes');
    await p.locator('[data-testid="signin-error"]', { hasText: 'trying again' }).waitFor();
    await p.locator('[data-testid="who"]').waitFor();
    assert.equal(broken, 4);
    await p.locator(`tr[data-node="${cluster.nodes[0] ?? ''}"]`).waitFor();
  } finally {
    await context.close();
  }
});
