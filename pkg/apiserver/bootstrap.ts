// Objects every cluster has, created by whichever apiserver starts first (several may start
// at once on one store): each step accepts AlreadyExists and retries on Conflict, so
// concurrent starts all succeed and leave one copy.

import { setTimeout as sleep } from 'node:timers/promises';
import yaml from 'js-yaml';
import { isObject, type KubeObject } from '../api/meta.js';
import { RESOURCES, type ResourceInfo } from '../api/registry.js';
import { DEFAULT_CLASS_ANNOTATION, LOCAL_PATH_PROVISIONER } from '../api/volume-binding.js';
import { DEFAULT_INGRESS_CLASS_ANNOTATION, INGRESS_CLASS_NAME, INGRESS_CONTROLLER } from '../api/ingress-class.js';
import { CLUSTER_INFO } from '../bootstrap/index.js';
import { isAlreadyExists, isConflict, isInvalid } from '../errors/index.js';
import type { ApiserverAddress } from './apiserver-identity.js';
import type { RestStore } from './rest-store.js';

/** Attempts of a bootstrap step that lost a race with another apiserver. */
const BOOTSTRAP_ATTEMPTS = 8;

/** Runs a step again while it loses races (Conflict, AlreadyExists) with another apiserver. */
export async function raceSafely<T>(step: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      if (attempt >= BOOTSTRAP_ATTEMPTS || !(isConflict(err) || isAlreadyExists(err))) throw err;
      await sleep(20 * attempt + Math.random() * 50);
    }
  }
}

/** The `kubernetes` Service in `default` (its Endpoints are the identity reconciler's). */
export async function ensureKubernetesService(store: RestStore, ip: string, targetPort: number): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    if ((await store.find(RESOURCES.services, 'default', 'kubernetes')) !== undefined) return;
    try {
      await store.create(RESOURCES.services, {
        namespace: 'default',
        body: {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: {
            name: 'kubernetes',
            namespace: 'default',
            labels: { component: 'apiserver', provider: 'kubernetes' },
          },
          spec: {
            type: 'ClusterIP',
            clusterIP: ip,
            ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort }],
            sessionAffinity: 'None',
          },
        },
      });
      return;
    } catch (err) {
      // Another apiserver's create won (its address is then "already allocated"): look again.
      if (attempt >= BOOTSTRAP_ATTEMPTS || !(isAlreadyExists(err) || isInvalid(err))) throw err;
      await sleep(20 * attempt);
    }
  }
}

/** The cluster's server and CA a cluster-info kubeconfig names, if it parses. */
function namedCluster(kubeconfig: string | undefined): { server?: unknown; ca?: unknown } {
  try {
    const doc: unknown = yaml.load(kubeconfig ?? '');
    const clusters = isObject(doc) ? doc['clusters'] : undefined;
    const first: unknown = Array.isArray(clusters) ? clusters[0] : undefined;
    const cluster = isObject(first) ? first['cluster'] : undefined;
    if (!isObject(cluster)) return {};
    return { server: cluster['server'], ca: cluster['certificate-authority-data'] };
  } catch {
    return {};
  }
}

const hostPort = (a: ApiserverAddress): string =>
  `https://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`;

/**
 * The public `kube-public/cluster-info` ConfigMap: a kubeconfig naming an apiserver and the
 * cluster CA, which joining nodes read anonymously and check against the bootstrap-token
 * signatures the controller-manager adds. Written when absent, when the CA changed, or when
 * the server it names is no live apiserver (so it does not flap between apiservers); the
 * signatures of an unchanged kubeconfig are kept.
 */
export async function ensureClusterInfo(
  store: RestStore,
  self: { server: string; caPem: string },
  live: ApiserverAddress[],
): Promise<void> {
  const caData = Buffer.from(self.caPem).toString('base64');
  const kubeconfig = yaml.dump({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: '', cluster: { 'certificate-authority-data': caData, server: self.server } }],
    contexts: [],
    'current-context': '',
    preferences: {},
    users: [],
  });
  await raceSafely(async () => {
    const current = await store.find(RESOURCES.configmaps, CLUSTER_INFO.namespace, CLUSTER_INFO.name);
    if (current === undefined) {
      await store.create(RESOURCES.configmaps, {
        namespace: CLUSTER_INFO.namespace,
        body: {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: CLUSTER_INFO.name, namespace: CLUSTER_INFO.namespace },
          data: { kubeconfig },
        },
      });
      return;
    }
    const named = namedCluster(current.data?.['kubeconfig']);
    const servers = new Set([self.server, ...live.map(hostPort)]);
    if (named.ca === caData && typeof named.server === 'string' && servers.has(named.server)) return;
    // A new kubeconfig invalidates the old signatures; the bootstrap signer makes new ones.
    await store.update(RESOURCES.configmaps, CLUSTER_INFO, { body: { ...current, data: { kubeconfig } } });
  });
}

/**
 * The default StorageClass `local-path` (k3s ships the same): a claim that names no class
 * gets a hostPath volume on the node its first pod is scheduled to. Created once; a class
 * the administrator changed or deleted-and-recreated is left as it is.
 */
export async function ensureDefaultStorageClass(store: RestStore): Promise<void> {
  await ensureCreated(store, RESOURCES.storageclasses, {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: { name: 'local-path', annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
    allowVolumeExpansion: true,
  });
}

/**
 * The default IngressClass `coxswain`, served by every node agent's ingress proxy. Created
 * once; a class the administrator changed or deleted-and-recreated is left as it is.
 */
export async function ensureDefaultIngressClass(store: RestStore): Promise<void> {
  await ensureCreated(store, RESOURCES.ingressclasses, {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'IngressClass',
    metadata: { name: INGRESS_CLASS_NAME, annotations: { [DEFAULT_INGRESS_CLASS_ANNOTATION]: 'true' } },
    spec: { controller: INGRESS_CONTROLLER },
  });
}

/**
 * A cluster-scoped built-in object, created once by whichever apiserver starts first: one that
 * exists (maybe changed by the administrator) is left as it is, and losing the race is fine.
 */
export async function ensureCreated(store: RestStore, r: ResourceInfo, body: KubeObject): Promise<void> {
  if ((await store.find(r, undefined, body.metadata.name ?? '')) !== undefined) return;
  try {
    await store.create(r, { namespace: undefined, body });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
}
