// What the authorization chain reads, built once per apiserver: RBAC's roles and bindings and
// the node authorizer's pod graph, both kept from the watch cache; and the default policy,
// reconciled through the apiserver's own store before it serves.

import {
  RESOURCES,
  findByKind,
  isObject,
  storageKey,
  type Ingress,
  type KubeObject,
  type Pod,
  type ResourceInfo,
} from '../api/index.js';
import type { Store } from '../storage/index.js';
import type { AuthorizerSources } from './authorizer.js';
import { NodeGraph } from './nodeauth/graph.js';
import { RbacPolicyCache } from './rbac/policy-cache.js';
import type { PolicyWriter } from './rbac/reconcile.js';
import type { RestStore } from './rest-store.js';
import { StoreMirror } from './store-mirror.js';

const isPod = (o: KubeObject): o is Pod => o['spec'] === undefined || isObject(o['spec']);
const isIngress = (o: KubeObject): o is Ingress => o['spec'] === undefined || isObject(o['spec']);

export class LiveAuthorizerSources implements AuthorizerSources {
  readonly rbac: RbacPolicyCache;
  readonly nodes = new NodeGraph();
  private readonly pods: StoreMirror<Pod>;
  private readonly ingresses: StoreMirror<Ingress>;

  constructor(store: Store, log: (m: string) => void) {
    this.rbac = new RbacPolicyCache(store, log);
    this.pods = new StoreMirror<Pod>({
      store,
      prefix: storageKey(RESOURCES.pods),
      accept: isPod,
      log,
      onChange: ({ type, object }) => {
        if (type === 'DELETED') this.nodes.deletePod(object.metadata.namespace ?? '', object.metadata.name ?? '');
        else this.nodes.setPod(object);
      },
    });
    this.ingresses = new StoreMirror<Ingress>({
      store,
      prefix: storageKey(RESOURCES.ingresses),
      accept: isIngress,
      log,
      onChange: ({ type, object }) => {
        const secrets = this.nodes.ingressSecrets;
        if (type === 'DELETED')
          secrets.deleteIngress(`${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`);
        else secrets.setIngress(object);
      },
    });
  }

  async start(): Promise<void> {
    await Promise.all([this.rbac.start(), this.pods.start(), this.ingresses.start()]);
  }

  stop(): void {
    this.rbac.stop();
    this.pods.stop();
    this.ingresses.stop();
  }
}

/** The default roles and bindings, written through the REST store (validated like any write). */
export function policyWriter(store: RestStore): PolicyWriter {
  return {
    getClusterRole: (name) => store.find(RESOURCES.clusterroles, undefined, name),
    getClusterRoleBinding: (name) => store.find(RESOURCES.clusterrolebindings, undefined, name),
    getRole: (namespace, name) => store.find(RESOURCES.roles, namespace, name),
    getRoleBinding: (namespace, name) => store.find(RESOURCES.rolebindings, namespace, name),
    create: async (obj) => {
      const r = resourceOf(obj);
      await store.create(r, { namespace: obj.metadata.namespace, body: obj });
    },
    update: async (obj) => {
      const r = resourceOf(obj);
      await store.update(r, { namespace: obj.metadata.namespace, name: obj.metadata.name ?? '' }, { body: obj });
    },
  };
}

/** The resource of a default policy object, from its own apiVersion and kind. */
function resourceOf(obj: KubeObject): ResourceInfo {
  const r = findByKind(obj.apiVersion ?? '', obj.kind ?? '');
  if (r === undefined) throw new Error(`no resource serves ${obj.apiVersion ?? ''} ${obj.kind ?? ''}`);
  return r;
}
