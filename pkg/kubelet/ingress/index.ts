// The ingress controller built into the node agent: it serves the Ingresses whose class names
// the controller `coxswain.dev/ingress` on ports 80/443 of the node (proxy.ts), recompiling
// its routes and reloading TLS Secrets whenever an Ingress or IngressClass changes (no
// restart), and, on one node, writing the Ingresses' status (status.ts). Services and
// endpoints come from the agent's shared caches, as the service proxy reads them.

import { INGRESS_CONTROLLER, RESOURCES, type Endpoints, type Ingress, type IngressClass } from '../../api/index.js';
import type { Node, Service } from '../../api/index.js';
import { Informer, type RestClient } from '../../client/index.js';
import { errorMessage } from '../../errors/index.js';
import { Backends } from './backends.js';
import { IngressCertificates } from './certificates.js';
import { IngressProxy } from './proxy.js';
import { compileRoutes, type RouteTable } from './router.js';
import { isStatusWriter, writeIngressStatus } from './status.js';

export { IngressProxy } from './proxy.js';

export interface IngressOptions {
  nodeName: string;
  address: string;
  httpPort: number;
  httpsPort: number;
  /** How often TLS Secrets are re-read and status is retried, besides every change. */
  resyncMs?: number;
  log: (m: string) => void;
}

export interface IngressSources {
  client: RestClient;
  nodes: Pick<Informer<Node>, 'list' | 'addHandler'>;
  services: { get(key: string): Readonly<Service> | undefined };
  endpoints: { get(key: string): Endpoints | undefined };
}

/** The Ingresses served here: those whose class has this controller. */
export function servedIngresses(
  ingresses: readonly Readonly<Ingress>[],
  classes: readonly Readonly<IngressClass>[],
): Readonly<Ingress>[] {
  const ours = new Set(
    classes.filter((c) => c.spec?.controller === INGRESS_CONTROLLER).map((c) => c.metadata.name ?? ''),
  );
  return ingresses.filter((i) => ours.has(i.spec?.ingressClassName ?? ''));
}

/** Starts the ingress controller; resolves once it listens. */
export async function startIngress(
  sources: IngressSources,
  options: IngressOptions,
  signal: AbortSignal,
): Promise<IngressProxy> {
  const { client } = sources;
  const { log } = options;
  const ingresses = new Informer(client, RESOURCES.ingresses);
  const classes = new Informer(client, RESOURCES.ingressclasses);
  for (const inf of [ingresses, classes]) inf.start(signal);
  await Promise.all([ingresses.waitForSync(signal), classes.waitForSync(signal)]);
  const certificates = await IngressCertificates.create(
    (namespace, name) => client.get(RESOURCES.secrets, name, { namespace }),
    log,
  );
  let table: RouteTable = compileRoutes([]);
  const proxy = await IngressProxy.listen(
    { table: () => table, backends: new Backends(sources), certificates },
    { address: options.address, httpPort: options.httpPort, httpsPort: options.httpsPort, log },
  );
  let dirty = true;
  let wake: (() => void) | undefined;
  const markDirty = (): void => {
    dirty = true;
    wake?.();
  };
  for (const inf of [ingresses, classes])
    inf.addHandler({ onAdd: markDirty, onUpdate: markDirty, onDelete: markDirty });
  sources.nodes.addHandler({ onAdd: markDirty, onUpdate: markDirty, onDelete: markDirty });
  const sync = async (): Promise<void> => {
    const served = servedIngresses(ingresses.list(), classes.list());
    table = compileRoutes(served);
    await certificates.refresh(served);
    const nodes = sources.nodes.list();
    if (isStatusWriter(options.nodeName, nodes)) await writeIngressStatus(client, { ingresses: served, nodes }, log);
  };
  signal.addEventListener('abort', () => wake?.(), { once: true });
  void (async () => {
    const resync = options.resyncMs ?? 5000;
    while (!signal.aborted) {
      if (dirty) {
        dirty = false;
        try {
          await sync();
        } catch (err) {
          log(`ingress: sync: ${errorMessage(err)}`);
        }
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          dirty = true;
          resolve();
        }, resync);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        // A change that came in during the sync is not left waiting for the resync.
        if (signal.aborted || dirty) wake();
      });
      wake = undefined;
    }
  })();
  signal.addEventListener('abort', () => void proxy.close(), { once: true });
  const ports = proxy.ports();
  log(
    `ingress: serving class controller ${INGRESS_CONTROLLER} on ${options.address}:${ports.http} and :${ports.https}`,
  );
  return proxy;
}
