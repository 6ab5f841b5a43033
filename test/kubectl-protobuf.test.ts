// The real kubectl's typed-client verbs, which send protobuf bodies
// (application/vnd.kubernetes.protobuf): `create <generator>`, `create token`, `auth can-i`
// (and --list), `auth whoami`, `certificate approve` — each checked by reading the effect back
// as JSON; then protobuf answers to clients that accept only protobuf (objects, lists, Status
// errors, watch frames), 406 for clients that accept nothing we speak, and malformed protobuf
// bodies (400, nothing changes, the server stays healthy).

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decodeProtobuf, encodeProtobuf } from '../pkg/api/protobuf/index.js';
import { createCsr, issueCertificate, writeKubeconfig } from '../pkg/pki/index.js';
import { eventually } from './harness/clients.js';
import { kubectl, startControlPlane, type ControlPlane } from './harness/control-plane.js';

const PROTOBUF = 'application/vnd.kubernetes.protobuf';

let plane: ControlPlane;
let home: string;
let ca: string;
let nobodyKubeconfig: string;

before(async () => {
  plane = await startControlPlane({ withControllers: true, serviceAccountTokens: true });
  home = mkdtempSync(join(tmpdir(), 'kubectl-protobuf-'));
  ca = readFileSync(plane.pki.caCert, 'utf8');
  const caPair = { certPem: ca, keyPem: readFileSync(plane.pki.caKey, 'utf8') };
  const nobody = await issueCertificate(caPair, { commonName: 'nobody', organizations: [], usages: ['client'] });
  nobodyKubeconfig = join(home, 'nobody.kubeconfig');
  writeKubeconfig(nobodyKubeconfig, {
    clusterName: 'coxswain',
    server: plane.server,
    caPem: ca,
    userName: 'nobody',
    certPem: nobody.certPem,
    keyPem: nobody.keyPem,
  });
});
after(async () => {
  await plane.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

type Json = Record<string, unknown>;

async function kubectlAs(
  kubeconfig: string,
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(kubeconfig, args, { home });
}

/** kubectl as the cluster admin; it must succeed. */
async function k(...args: string[]): Promise<string> {
  const res = await kubectlAs(plane.pki.adminKubeconfig, args);
  assert.equal(res.code, 0, `kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** One HTTPS request as the admin (or with a bearer token), the body kept as bytes. */
function request(opts: {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  token?: string;
}): Promise<Answer> {
  const identity =
    opts.token === undefined
      ? { cert: readFileSync(plane.pki.adminCert, 'utf8'), key: readFileSync(plane.pki.adminKey, 'utf8') }
      : {};
  const headers = {
    ...(opts.headers ?? {}),
    ...(opts.token === undefined ? {} : { Authorization: `Bearer ${opts.token}` }),
  };
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port: plane.port,
        method: opts.method ?? 'GET',
        path: opts.path,
        ca,
        ...identity,
        headers,
        agent: false,
        timeout: 15_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            contentType: String(res.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks),
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

function asObject(value: unknown): Json {
  assert.ok(typeof value === 'object' && value !== null && !Array.isArray(value), `not an object: ${String(value)}`);
  return Object.fromEntries(Object.entries(value));
}

const at = (obj: unknown, ...path: (string | number)[]): unknown =>
  path.reduce<unknown>((o, key) => {
    if (Array.isArray(o) && typeof key === 'number') return o[key];
    return typeof o === 'object' && o !== null && !Array.isArray(o)
      ? Object.fromEntries(Object.entries(o))[key]
      : undefined;
  }, obj);

/** A JSON GET as the admin: the object as the server stores it. */
async function getJson(path: string): Promise<Json> {
  const res = await request({ path, headers: { Accept: 'application/json' } });
  assert.equal(res.status, 200, `GET ${path}: ${res.body.toString().slice(0, 300)}`);
  assert.match(res.contentType, /^application\/json/);
  return asObject(JSON.parse(res.body.toString()));
}

test('kubectl create <generator> (protobuf bodies) creates every kind with the fields asked for', async () => {
  // kubectl really sends protobuf for these (its -v=8 log shows the request's headers).
  const verbose = await kubectlAs(plane.pki.adminKubeconfig, ['create', 'namespace', 'pb', '-v=8']);
  assert.equal(verbose.code, 0, verbose.stderr);
  assert.match(verbose.stdout, /namespace\/pb created/);
  assert.match(verbose.stderr, /Content-Type: application\/vnd\.kubernetes\.protobuf/);
  assert.equal(at(await getJson('/api/v1/namespaces/pb'), 'metadata', 'name'), 'pb');

  assert.match(
    await k('create', 'deployment', 'web', '-n', 'pb', '--image=nginx:1.27', '--replicas=0', '--port=80'),
    /deployment.apps\/web created/,
  );
  const deploy = await getJson('/apis/apps/v1/namespaces/pb/deployments/web');
  assert.equal(at(deploy, 'spec', 'replicas'), 0, 'an explicit 0 survives the protobuf decode');
  assert.equal(at(deploy, 'spec', 'template', 'spec', 'containers', 0, 'image'), 'nginx:1.27');
  assert.equal(at(deploy, 'spec', 'template', 'spec', 'containers', 0, 'ports', 0, 'containerPort'), 80);
  assert.deepEqual(at(deploy, 'spec', 'selector', 'matchLabels'), { app: 'web' });
  assert.equal(at(deploy, 'spec', 'strategy', 'type'), 'RollingUpdate', 'defaulted as for JSON');
  assert.equal(at(deploy, 'spec', 'template', 'spec', 'restartPolicy'), 'Always');
  assert.match(String(at(deploy, 'metadata', 'creationTimestamp')), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

  await k('create', 'configmap', 'cfg', '-n', 'pb', '--from-literal=a=1', '--from-literal=empty=');
  assert.deepEqual(at(await getJson('/api/v1/namespaces/pb/configmaps/cfg'), 'data'), { a: '1', empty: '' });

  await k('create', 'secret', 'generic', 'pw', '-n', 'pb', '--from-literal=password=s3cr3t');
  const secret = await getJson('/api/v1/namespaces/pb/secrets/pw');
  assert.equal(at(secret, 'type'), 'Opaque');
  assert.equal(Buffer.from(String(at(secret, 'data', 'password')), 'base64').toString(), 's3cr3t');

  await k(
    'create',
    'secret',
    'docker-registry',
    'reg',
    '-n',
    'pb',
    '--docker-server=r.example',
    '--docker-username=u',
    '--docker-password=p',
  );
  const reg = await getJson('/api/v1/namespaces/pb/secrets/reg');
  assert.equal(at(reg, 'type'), 'kubernetes.io/dockerconfigjson');
  assert.match(Buffer.from(String(at(reg, 'data', '.dockerconfigjson')), 'base64').toString(), /r\.example/);

  await k('create', 'service', 'clusterip', 'svc', '-n', 'pb', '--tcp=80:8080');
  const svc = await getJson('/api/v1/namespaces/pb/services/svc');
  assert.equal(at(svc, 'spec', 'type'), 'ClusterIP');
  assert.equal(at(svc, 'spec', 'ports', 0, 'port'), 80);
  assert.equal(at(svc, 'spec', 'ports', 0, 'targetPort'), 8080, 'an IntOrString int stays a number');
  assert.match(String(at(svc, 'spec', 'clusterIP')), /^\d+\.\d+\.\d+\.\d+$/);

  await k('create', 'service', 'nodeport', 'np', '-n', 'pb', '--tcp=81:http');
  const np = await getJson('/api/v1/namespaces/pb/services/np');
  assert.equal(at(np, 'spec', 'type'), 'NodePort');
  assert.equal(at(np, 'spec', 'ports', 0, 'targetPort'), 'http', 'an IntOrString string stays a string');

  await k('create', 'service', 'externalname', 'ext', '-n', 'pb', '--external-name=db.example.com');
  assert.equal(at(await getJson('/api/v1/namespaces/pb/services/ext'), 'spec', 'externalName'), 'db.example.com');

  await k('create', 'job', 'once', '-n', 'pb', '--image=busybox:latest', '--', 'echo', 'hi');
  const job = await getJson('/apis/batch/v1/namespaces/pb/jobs/once');
  assert.deepEqual(at(job, 'spec', 'template', 'spec', 'containers', 0, 'command'), ['echo', 'hi']);
  assert.equal(at(job, 'spec', 'template', 'spec', 'restartPolicy'), 'Never');

  await k('create', 'cronjob', 'tick', '-n', 'pb', '--image=busybox:latest', '--schedule=*/5 * * * *', '--', 'date');
  const cron = await getJson('/apis/batch/v1/namespaces/pb/cronjobs/tick');
  assert.equal(at(cron, 'spec', 'schedule'), '*/5 * * * *');
  assert.equal(at(cron, 'spec', 'jobTemplate', 'spec', 'template', 'spec', 'containers', 0, 'image'), 'busybox:latest');

  assert.match(await k('create', 'job', 'manual', '-n', 'pb', '--from=cronjob/tick'), /job.batch\/manual created/);
  const manual = await getJson('/apis/batch/v1/namespaces/pb/jobs/manual');
  assert.equal(at(manual, 'metadata', 'annotations', 'cronjob.kubernetes.io/instantiate'), 'manual');
  assert.equal(at(manual, 'metadata', 'ownerReferences', 0, 'kind'), 'CronJob');

  await k('create', 'serviceaccount', 'robot', '-n', 'pb');
  assert.equal(at(await getJson('/api/v1/namespaces/pb/serviceaccounts/robot'), 'metadata', 'name'), 'robot');

  await k('create', 'role', 'pod-reader', '-n', 'pb', '--verb=get,list', '--resource=pods');
  const role = await getJson('/apis/rbac.authorization.k8s.io/v1/namespaces/pb/roles/pod-reader');
  assert.deepEqual(at(role, 'rules', 0, 'verbs'), ['get', 'list']);
  assert.deepEqual(at(role, 'rules', 0, 'resources'), ['pods']);
  assert.deepEqual(at(role, 'rules', 0, 'apiGroups'), ['']);

  await k('create', 'rolebinding', 'alice-reads', '-n', 'pb', '--role=pod-reader', '--user=alice');
  const rb = await getJson('/apis/rbac.authorization.k8s.io/v1/namespaces/pb/rolebindings/alice-reads');
  assert.deepEqual(at(rb, 'roleRef'), { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' });
  assert.equal(at(rb, 'subjects', 0, 'name'), 'alice');

  await k('create', 'clusterrole', 'node-viewer', '--verb=get,list', '--resource=nodes');
  const cr = await getJson('/apis/rbac.authorization.k8s.io/v1/clusterroles/node-viewer');
  assert.deepEqual(at(cr, 'rules', 0, 'resources'), ['nodes']);

  await k('create', 'clusterrolebinding', 'alice-nodes', '--clusterrole=node-viewer', '--user=alice', '--group=devs');
  const crb = await getJson('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/alice-nodes');
  assert.equal(at(crb, 'roleRef', 'name'), 'node-viewer');
  assert.deepEqual(
    (at(crb, 'subjects') as unknown[]).map((s) => at(s, 'kind')),
    ['User', 'Group'],
  );
});

test('kubectl run, and kubectl debug --copy-to (a typed get and create) copy the pod with the debug container', async () => {
  assert.match(
    await k(
      'run',
      'p',
      '-n',
      'pb',
      '--image=busybox:latest',
      '--restart=Never',
      '--labels=a=b',
      '--env=X=1',
      '--port=8080',
    ),
    /pod\/p created/,
  );
  await k(
    'debug',
    'p',
    '-n',
    'pb',
    '--copy-to=p-copy',
    '--image=busybox:latest',
    '--container=dbg',
    '--',
    'sleep',
    '1',
  );
  const copy = await getJson('/api/v1/namespaces/pb/pods/p-copy');
  const containers = at(copy, 'spec', 'containers');
  assert.ok(Array.isArray(containers));
  assert.deepEqual(
    containers.map((c) => at(c, 'name')),
    ['p', 'dbg'],
  );
  assert.deepEqual(at(containers[1], 'command'), ['sleep', '1']);
  assert.deepEqual(at(containers[0], 'env'), [{ name: 'X', value: '1' }]);
  assert.equal(at(containers[0], 'ports', 0, 'containerPort'), 8080);
});

function jwtClaims(token: string): Json {
  const parts = token.split('.');
  assert.equal(parts.length, 3, `not a JWT: ${token}`);
  return asObject(JSON.parse(Buffer.from(parts[1] ?? '', 'base64url').toString()));
}

test('kubectl create token: a JWT with the asked duration and audience; the default one authenticates', async () => {
  await k('create', 'serviceaccount', 'bot', '-n', 'default');
  const custom = (await k('create', 'token', 'bot', '-n', 'default', '--duration', '10m', '--audience', 'X')).trim();
  const claims = jwtClaims(custom);
  assert.deepEqual(claims['aud'], ['X']);
  assert.equal(Number(claims['exp']) - Number(claims['iat']), 600);
  assert.equal(claims['sub'], 'system:serviceaccount:default:bot');

  const token = (await k('create', 'token', 'bot', '-n', 'default', '--duration', '10m')).trim();
  const api = await request({ path: '/api', token });
  assert.equal(api.status, 200, `GET /api with the token: ${api.body.toString()}`);
  const refused = await request({ path: '/api/v1/namespaces/default/secrets', token });
  assert.equal(refused.status, 403, 'RBAC, not authentication, refuses the token');
  assert.match(asObject(JSON.parse(refused.body.toString()))['message'] as string, /system:serviceaccount:default:bot/);
  await k('create', 'rolebinding', 'bot-reads', '-n', 'default', '--clusterrole=view', '--serviceaccount=default:bot');
  await eventually(
    async () => (await request({ path: '/api/v1/namespaces/default/configmaps', token })).status === 200,
    {
      timeoutMs: 10_000,
      what: 'the token to be allowed once bound',
    },
  );
  const tampered = await request({ path: '/api', token: `${token.slice(0, -4)}AAAA` });
  assert.equal(tampered.status, 401, 'a tampered token is refused');
  const foreign = await request({ path: '/api', token: custom });
  assert.equal(foreign.status, 401, 'a token for another audience does not authenticate to the apiserver');
});

test('kubectl create token --bound-object-kind Pod: the token works while the pod lives, and not after', async () => {
  // Kubernetes binds a token only to a pod that runs as its ServiceAccount.
  await k(
    'run',
    'holder',
    '-n',
    'default',
    '--image=busybox:latest',
    '--restart=Never',
    '--overrides={"spec":{"serviceAccountName":"bot"}}',
  );
  const holder = await getJson('/api/v1/namespaces/default/pods/holder');
  const token = (
    await k('create', 'token', 'bot', '-n', 'default', '--bound-object-kind', 'Pod', '--bound-object-name', 'holder')
  ).trim();
  const bound = at(jwtClaims(token), 'kubernetes.io', 'pod');
  assert.deepEqual(bound, { name: 'holder', uid: at(holder, 'metadata', 'uid') });
  assert.equal((await request({ path: '/api', token })).status, 200);
  await k('delete', 'pod', 'holder', '-n', 'default', '--grace-period=0', '--force');
  await eventually(async () => (await request({ path: '/api', token })).status === 401, {
    timeoutMs: 15_000,
    what: 'the pod-bound token to stop authenticating once its pod is gone',
  });
});

test('kubectl auth can-i: yes/no and exit codes for the admin, a user with no bindings, and --as', async () => {
  const can = (kubeconfig: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    kubectlAs(kubeconfig, ['auth', 'can-i', ...args]);
  const admin = plane.pki.adminKubeconfig;
  let res = await can(admin, ['create', 'deployments', '-n', 'pb']);
  assert.deepEqual([res.code, res.stdout.trim()], [0, 'yes'], res.stderr);
  res = await can(nobodyKubeconfig, ['get', 'pods', '-n', 'pb']);
  assert.deepEqual([res.code, res.stdout.trim()], [1, 'no'], res.stderr);
  res = await can(nobodyKubeconfig, ['create', 'selfsubjectaccessreviews.authorization.k8s.io']);
  assert.deepEqual([res.code, res.stdout.trim()], [0, 'yes'], 'everyone may ask');
  res = await can(admin, ['get', 'pods', '-n', 'pb', '--as', 'alice']);
  assert.deepEqual([res.code, res.stdout.trim()], [0, 'yes'], res.stderr);
  res = await can(admin, ['delete', 'pods', '-n', 'pb', '--as', 'alice']);
  assert.deepEqual([res.code, res.stdout.trim()], [1, 'no'], res.stderr);
  res = await can(admin, ['list', 'nodes', '--as', 'bob', '--as-group', 'devs']);
  assert.deepEqual([res.code, res.stdout.trim()], [0, 'yes'], 'allowed through the group binding');
  res = await can(admin, ['get', '/healthz', '--as', 'alice']);
  assert.deepEqual([res.code, res.stdout.trim()], [0, 'yes'], 'a non-resource URL');
  // Impersonating is itself authorized: nobody may not.
  res = await can(nobodyKubeconfig, ['get', 'pods', '--as', 'alice']);
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /cannot impersonate/);

  const list = await k('auth', 'can-i', '--list', '-n', 'pb', '--as', 'alice');
  assert.match(list, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
  assert.match(list, /^pods\s+\[\]\s+\[\]\s+\[get list\]$/m);
  assert.match(list, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
  const nobodyList = await kubectlAs(nobodyKubeconfig, ['auth', 'can-i', '--list', '-n', 'pb']);
  assert.equal(nobodyList.code, 0, nobodyList.stderr);
  assert.doesNotMatch(nobodyList.stdout, /^pods\s/m);
});

test('kubectl auth whoami prints the username and groups', async () => {
  const admin = await k('auth', 'whoami');
  assert.match(admin, /Username\s+admin\n/);
  assert.match(admin, /Groups\s+\[system:masters system:authenticated\]/);
  const json = asObject(JSON.parse(await k('auth', 'whoami', '-o', 'json')));
  assert.equal(at(json, 'kind'), 'SelfSubjectReview');
  assert.equal(at(json, 'status', 'userInfo', 'username'), 'admin');
  const alice = await k('auth', 'whoami', '--as', 'alice', '--as-group', 'devs');
  assert.match(alice, /Username\s+alice/);
  assert.match(alice, /Groups\s+\[devs system:authenticated\]/);
  const nobody = await kubectlAs(nobodyKubeconfig, ['auth', 'whoami']);
  assert.equal(nobody.code, 0, nobody.stderr);
  assert.match(nobody.stdout, /Username\s+nobody/);
});

test('kubectl certificate approve on a kube-apiserver-client CSR; the signer issues it', async () => {
  const { csrPem } = await createCsr('carol', ['devs']);
  const csr = {
    apiVersion: 'certificates.k8s.io/v1',
    kind: 'CertificateSigningRequest',
    metadata: { name: 'carol' },
    spec: {
      request: Buffer.from(csrPem).toString('base64'),
      signerName: 'kubernetes.io/kube-apiserver-client',
      usages: ['client auth'],
      expirationSeconds: 3600,
    },
  };
  const created = await kubectl(plane.pki.adminKubeconfig, ['create', '-f', '-'], { home, input: JSON.stringify(csr) });
  assert.equal(created.code, 0, created.stderr);
  assert.match(
    await k('certificate', 'approve', 'carol'),
    /certificatesigningrequest.certificates.k8s.io\/carol approved/,
  );
  const approved = await getJson('/apis/certificates.k8s.io/v1/certificatesigningrequests/carol');
  const conditions = at(approved, 'status', 'conditions');
  assert.ok(Array.isArray(conditions));
  assert.ok(
    conditions.some((c) => at(c, 'type') === 'Approved' && at(c, 'status') === 'True'),
    JSON.stringify(conditions),
  );
  await eventually(
    async () =>
      String(
        at(await getJson('/apis/certificates.k8s.io/v1/certificatesigningrequests/carol'), 'status', 'certificate') ??
          '',
      ) !== '',
    { timeoutMs: 20_000, what: 'the signer to issue the approved certificate' },
  );
  const deny = await kubectlAs(nobodyKubeconfig, ['certificate', 'deny', 'carol']);
  assert.notEqual(deny.code, 0, 'a user without rights cannot decide');
  assert.match(deny.stderr, /Forbidden|forbidden/);
});

test('a client that accepts only protobuf gets protobuf: objects, lists, Status errors; 406 when nothing fits', async () => {
  const body = encodeProtobuf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'pbcm' }, data: { k: 'v' } });
  const created = await request({
    method: 'POST',
    path: '/api/v1/namespaces/pb/configmaps',
    headers: { 'Content-Type': PROTOBUF, Accept: PROTOBUF },
    body,
  });
  assert.equal(created.status, 201, created.body.toString());
  assert.equal(created.contentType, PROTOBUF);
  const obj = decodeProtobuf(created.body);
  assert.equal(obj['kind'], 'ConfigMap');
  assert.deepEqual(at(obj, 'data'), { k: 'v' });
  assert.match(String(at(obj, 'metadata', 'uid')), /^[0-9a-f-]{36}$/);

  const list = await request({ path: '/api/v1/namespaces/pb/configmaps', headers: { Accept: PROTOBUF } });
  assert.equal(list.contentType, PROTOBUF);
  const decodedList = decodeProtobuf(list.body);
  assert.equal(decodedList['kind'], 'ConfigMapList');
  const items = decodedList['items'];
  assert.ok(Array.isArray(items) && items.some((i) => at(i, 'metadata', 'name') === 'pbcm'));

  const missing = await request({ path: '/api/v1/namespaces/pb/configmaps/none', headers: { Accept: PROTOBUF } });
  assert.equal(missing.status, 404);
  assert.equal(missing.contentType, PROTOBUF);
  const status = decodeProtobuf(missing.body);
  assert.deepEqual([status['kind'], status['reason'], status['code']], ['Status', 'NotFound', 404]);

  const both = await request({
    path: '/api/v1/namespaces/pb/configmaps/pbcm',
    headers: { Accept: `${PROTOBUF},application/json` },
  });
  assert.match(both.contentType, /^application\/json/, 'JSON whenever the client accepts it');

  const xml = await request({ path: '/api/v1/namespaces/pb/configmaps/pbcm', headers: { Accept: 'application/xml' } });
  assert.equal(xml.status, 406);
  assert.equal(asObject(JSON.parse(xml.body.toString()))['reason'], 'NotAcceptable');
});

test('a protobuf watch streams length-prefixed WatchEvents whose objects are protobuf bodies', async () => {
  const frames: Buffer[] = [];
  let pending = Buffer.alloc(0);
  const cert = readFileSync(plane.pki.adminCert, 'utf8');
  const key = readFileSync(plane.pki.adminKey, 'utf8');
  const req = https.request({
    host: '127.0.0.1',
    port: plane.port,
    path: '/api/v1/namespaces/pb/configmaps?watch=true&resourceVersion=0&timeoutSeconds=20',
    ca,
    cert,
    key,
    agent: false,
    headers: { Accept: `${PROTOBUF};stream=watch` },
  });
  const contentType = new Promise<string>((resolve, reject) => {
    req.on('response', (res) => {
      resolve(String(res.headers['content-type'] ?? ''));
      res.on('data', (c: Buffer) => {
        pending = Buffer.concat([pending, c]);
        while (pending.length >= 4 && pending.length >= 4 + pending.readUInt32BE(0)) {
          const size = pending.readUInt32BE(0);
          frames.push(pending.subarray(4, 4 + size));
          pending = pending.subarray(4 + size);
        }
      });
    });
    req.on('error', reject);
  });
  req.end();
  try {
    assert.equal(await contentType, `${PROTOBUF};stream=watch`);
    await eventually(() => frames.length > 0, { timeoutMs: 10_000, what: 'the first watch frame' });
    await k('create', 'configmap', 'watched', '-n', 'pb', '--from-literal=x=1');
    const names = (): string[] => frames.map((f) => String(at(decodeWatchFrame(f).object, 'metadata', 'name')));
    await eventually(() => names().includes('watched'), { timeoutMs: 10_000, what: 'the new object in the watch' });
    const event = decodeWatchFrame(frames[names().indexOf('watched')] ?? Buffer.alloc(0));
    assert.equal(event.type, 'ADDED');
    assert.deepEqual(at(event.object, 'data'), { x: '1' });
  } finally {
    req.destroy();
  }
});

/** A WatchEvent frame: field 1 the type, field 2 a RawExtension whose field 1 is a protobuf body. */
function decodeWatchFrame(frame: Buffer): { type: string; object: Json } {
  const fields = readLengthDelimited(frame);
  const type = fields.get(1)?.toString() ?? '';
  const raw = readLengthDelimited(fields.get(2) ?? Buffer.alloc(0)).get(1) ?? Buffer.alloc(0);
  return { type, object: decodeProtobuf(raw) };
}

/** The length-delimited fields of one message by number (the only wire type WatchEvent uses). */
function readLengthDelimited(message: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let at = 0;
  const varint = (): number => {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const byte = message[at++] ?? 0;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new Error('bad varint');
  };
  while (at < message.length) {
    const tag = varint();
    assert.equal(tag & 7, 2, 'only length-delimited fields');
    const size = varint();
    out.set(tag >> 3, message.subarray(at, at + size));
    at += size;
  }
  return out;
}

test('malformed protobuf bodies get a 400 Status, change nothing, and the server stays healthy', async () => {
  const path = '/api/v1/namespaces/pb/configmaps';
  const good = encodeProtobuf({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'never' }, data: { a: 'b' } });
  const bodies: [string, Buffer][] = [
    ['garbage', Buffer.from('not protobuf at all')],
    ['magic only', Buffer.from('k8s\0')],
    ['truncated', good.subarray(0, good.length - 5)],
    ['huge length', Buffer.concat([Buffer.from('k8s\0'), Buffer.from([0x12, 0xff, 0xff, 0xff, 0xff, 0x07, 0x41])])],
    ['unknown kind', encodeLike(good, 'ConfigMap', 'ConfigMop')],
    ['another kind than the URL', encodeProtobuf({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'never' } })],
  ];
  for (const [what, body] of bodies) {
    const res = await request({ method: 'POST', path, headers: { 'Content-Type': PROTOBUF }, body });
    assert.equal(res.status, 400, `${what}: ${res.body.toString()}`);
    const status = asObject(JSON.parse(res.body.toString()));
    assert.deepEqual([status['kind'], status['reason'], status['code']], ['Status', 'BadRequest', 400], what);
  }
  const patch = await request({
    method: 'PATCH',
    path: `${path}/cfg`,
    headers: { 'Content-Type': PROTOBUF },
    body: good,
  });
  assert.equal(patch.status, 415, `a protobuf patch: ${patch.body.toString()}`);
  const absent = await request({ path: `${path}/never`, headers: { Accept: 'application/json' } });
  assert.equal(absent.status, 404);
  assert.equal((await request({ path: '/readyz' })).status, 200);
  assert.match(
    await k('create', 'configmap', 'after', '-n', 'pb', '--from-literal=still=working'),
    /configmap\/after created/,
  );
});

/** The same body with its envelope's kind renamed (same length, so the framing stays valid). */
function encodeLike(body: Buffer, from: string, to: string): Buffer {
  assert.equal(from.length, to.length);
  const at = body.indexOf(Buffer.from(from));
  const out = Buffer.from(body);
  out.write(to, at);
  return out;
}

test('kubectl drain --disable-eviction deletes the pods of a node with a protobuf DeleteOptions', async () => {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'drained', labels: { role: 'test' } } };
  const pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'on-drained', namespace: 'pb' },
    spec: { nodeName: 'drained', containers: [{ name: 'c', image: 'busybox:latest' }] },
  };
  for (const object of [node, pod]) {
    const res = await kubectl(plane.pki.adminKubeconfig, ['create', '-f', '-'], {
      home,
      input: JSON.stringify(object),
    });
    assert.equal(res.code, 0, res.stderr);
  }
  const out = await k('drain', 'drained', '--disable-eviction', '--force', '--grace-period=0', '--timeout=30s');
  assert.match(out, /node\/drained cordoned/);
  assert.match(out, /pod\/on-drained deleted/);
  assert.match(out, /node\/drained drained/);
  assert.equal(at(await getJson('/api/v1/nodes/drained'), 'spec', 'unschedulable'), true);
  const gone = await request({
    path: '/api/v1/namespaces/pb/pods/on-drained',
    headers: { Accept: 'application/json' },
  });
  assert.equal(gone.status, 404);
});
