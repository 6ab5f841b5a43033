// webapp-operator: for every WebApp (demo.coxswain.io/v1) it keeps a Deployment of the same
// name running the WebApp's image and replicas, owned by the WebApp (deleting the WebApp
// deletes the Deployment through the garbage collector), and writes the Deployment's ready
// count into the WebApp's status. It talks to the API as any pod does: through the
// `kubernetes` Service, with the ServiceAccount token and cluster CA the node agent mounts.
// Node.js built-ins only, so it runs from a ConfigMap in the coxswain/node image.
//
//   kubectl create configmap webapp-operator-code -n webapp-operator --from-file=main.mjs

import https from 'node:https';
import { readFileSync } from 'node:fs';

const SA = '/var/run/secrets/kubernetes.io/serviceaccount';
const GROUP_VERSION = 'demo.coxswain.io/v1';
const MANAGER = 'webapp-operator';
const host = process.env.KUBERNETES_SERVICE_HOST;
const port = process.env.KUBERNETES_SERVICE_PORT ?? '443';
if (!host) {
  console.error('webapp-operator: KUBERNETES_SERVICE_HOST is not set (not running in a pod?)');
  process.exit(1);
}
const agent = new https.Agent({ keepAlive: true, ca: readFileSync(`${SA}/ca.crt`) });
const log = (msg) => console.log(`${new Date().toISOString()} ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The token is read per request: the agent rotates the projected file. */
function headers(extra = {}) {
  return {
    Authorization: `Bearer ${readFileSync(`${SA}/token`, 'utf8').trim()}`,
    Accept: 'application/json',
    ...extra,
  };
}

/** One request; resolves with the status and the parsed body. */
function call(method, path, { body, contentType = 'application/json' } = {}) {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(
      {
        host,
        port,
        path,
        method,
        agent,
        timeout: 30_000,
        headers: headers(payload === undefined ? {} : { 'Content-Type': contentType }),
      },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = { message: text };
          }
          resolve({ status: res.statusCode ?? 0, body: json });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * List then watch `path` (a collection), calling onEvent for every object, for ever: a closed
 * stream resumes from the last resourceVersion, an expired one (410) lists again, and failures
 * back off up to 10 s.
 */
async function informer(path, onEvent) {
  let backoff = 500;
  for (;;) {
    try {
      const list = await call('GET', path);
      if (list.status !== 200) throw new Error(`list ${path}: ${list.status} ${list.body?.message ?? ''}`);
      for (const item of list.body.items ?? []) await onEvent('ADDED', item);
      let rv = list.body.metadata?.resourceVersion ?? '';
      for (;;) {
        const query = `watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`;
        const outcome = await watch(`${path}${path.includes('?') ? '&' : '?'}${query}`, async (ev) => {
          if (ev.object?.metadata?.resourceVersion) rv = ev.object.metadata.resourceVersion;
          if (ev.type !== 'BOOKMARK') await onEvent(ev.type, ev.object);
        });
        backoff = 500;
        if (outcome === 'expired') break;
      }
    } catch (err) {
      log(`${path}: ${err.message}; again in ${backoff} ms`);
      await sleep(backoff);
      backoff = Math.min(backoff * 2, 10_000);
    }
  }
}

/** One watch stream (newline-delimited JSON events); resolves 'closed' or 'expired'. */
function watch(path, onEvent) {
  return new Promise((resolve, reject) => {
    const req = https.get({ host, port, path, agent, headers: headers() }, (res) => {
      if (res.statusCode === 410) return resolve('expired');
      if (res.statusCode !== 200) return reject(new Error(`watch ${path}: ${res.statusCode}`));
      let buffered = '';
      let chain = Promise.resolve();
      let outcome = 'closed';
      res.setEncoding('utf8');
      res.on('data', (text) => {
        buffered += text;
        let nl;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim() === '') continue;
          const ev = JSON.parse(line);
          if (ev.type === 'ERROR') {
            outcome = ev.object?.code === 410 ? 'expired' : 'closed';
            req.destroy();
            continue;
          }
          chain = chain.then(() => onEvent(ev)).catch((err) => log(`handling ${ev.type}: ${err.message}`));
        }
      });
      res.on('close', () => void chain.then(() => resolve(outcome)));
    });
    req.on('error', reject);
  });
}

/** The Deployment a WebApp asks for, applied server-side (create or update in one call). */
async function reconcile(app) {
  const { name, namespace, uid } = app.metadata;
  const container = { name: 'app', image: app.spec.image, imagePullPolicy: 'IfNotPresent' };
  if (Array.isArray(app.spec.command)) container.command = app.spec.command;
  if (app.spec.port) container.ports = [{ containerPort: app.spec.port }];
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': MANAGER, webapp: name },
      ownerReferences: [
        { apiVersion: GROUP_VERSION, kind: 'WebApp', name, uid, controller: true, blockOwnerDeletion: true },
      ],
    },
    spec: {
      replicas: app.spec.replicas,
      selector: { matchLabels: { webapp: name } },
      template: {
        metadata: { labels: { webapp: name } },
        spec: { terminationGracePeriodSeconds: 1, containers: [container] },
      },
    },
  };
  const path = `/apis/apps/v1/namespaces/${namespace}/deployments/${name}?fieldManager=${MANAGER}&force=true`;
  const res = await call('PATCH', path, { body: deployment, contentType: 'application/apply-patch+yaml' });
  if (res.status >= 300) throw new Error(`apply deployment ${namespace}/${name}: ${res.status} ${res.body?.message}`);
  log(`webapp ${namespace}/${name}: deployment applied (${app.spec.replicas} replicas of ${app.spec.image})`);
  await writeStatus(namespace, name, { observedGeneration: app.metadata.generation, deployment: name });
}

async function writeStatus(namespace, name, status) {
  const path = `/apis/${GROUP_VERSION}/namespaces/${namespace}/webapps/${name}/status`;
  const res = await call('PATCH', path, { body: { status }, contentType: 'application/merge-patch+json' });
  // Gone meanwhile (404): nothing to report on.
  if (res.status >= 300 && res.status !== 404) throw new Error(`status of ${namespace}/${name}: ${res.status}`);
}

log(`webapp-operator watching ${GROUP_VERSION} webapps through https://${host}:${port}`);
void informer(`/apis/${GROUP_VERSION}/webapps`, async (type, app) => {
  if (type === 'ADDED' || type === 'MODIFIED') {
    if (app.metadata.deletionTimestamp) return;
    // A spec change bumps the generation; status writes (ours included) do not.
    if (app.status?.observedGeneration === app.metadata.generation) return;
    await reconcile(app);
  }
});
void informer(
  `/apis/apps/v1/deployments?labelSelector=app.kubernetes.io%2Fmanaged-by%3D${MANAGER}`,
  async (type, d) => {
    const owner = (d.metadata.ownerReferences ?? []).find((o) => o.kind === 'WebApp' && o.controller);
    if (owner === undefined) return;
    const namespace = d.metadata.namespace;
    if (type !== 'DELETED') {
      await writeStatus(namespace, owner.name, { readyReplicas: d.status?.readyReplicas ?? 0 });
      return;
    }
    // Deleted by hand while its WebApp lives: put it back.
    const app = await call('GET', `/apis/${GROUP_VERSION}/namespaces/${namespace}/webapps/${owner.name}`);
    if (app.status === 200 && app.body.metadata.uid === owner.uid && !app.body.metadata.deletionTimestamp)
      await reconcile(app.body);
  },
);
