// Several apiservers on one store (Kubernetes' apiserver identity leases and its lease
// endpoint reconciler): each apiserver keeps a coordination.k8s.io Lease in kube-system,
// `apiserver-<id>` (label apiserver.kubernetes.io/identity=kube-apiserver), recording where
// it is reached (annotations), renewed every renewInterval with a short duration. Each
// apiserver then makes the `default/kubernetes` Endpoints list every apiserver whose lease
// is live (addresses sorted and deduplicated; one subset per port: apiservers normally share
// one), writing only when that changes. A clean stop deletes the lease and takes this
// apiserver out of the Endpoints; a killed one drops out once its lease expires.

import { createHash, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { microTime } from '../api/meta.js';
import { RESOURCES } from '../api/registry.js';
import type { EndpointSubset, Endpoints, Lease } from '../api/types/index.js';
import { errorMessage, isAlreadyExists, isConflict, isNotFound } from '../errors/index.js';
import type { RestStore } from './rest-store.js';

export const IDENTITY_LABEL = 'apiserver.kubernetes.io/identity';
export const IDENTITY_VALUE = 'kube-apiserver';
/** Where the lease records the apiserver's advertise address and port. */
export const ADDRESS_ANNOTATION = 'coxswain.io/advertise-address';
export const PORT_ANNOTATION = 'coxswain.io/advertise-port';
const NAMESPACE = 'kube-system';

export interface IdentityOptions {
  advertiseAddress: string;
  port: number;
  /** Seconds a lease stays live without renewal (--identity-lease-duration-seconds). */
  leaseDurationSeconds: number;
  /** Seconds between renewals (--identity-lease-renew-interval-seconds). */
  renewIntervalSeconds: number;
  log: (message: string) => void;
  now?: () => Date;
  /**
   * False for a store only this process uses (SQLite): one apiserver, so no Lease; the
   * Endpoints name it, written once at start, as before (no periodic writes).
   */
  leases: boolean;
  /** Runs after each reconcile with the live apiservers (cluster-info's check). */
  afterReconcile?: (live: ApiserverAddress[]) => Promise<void>;
}

/** A live apiserver: where it is reached. */
export interface ApiserverAddress {
  address: string;
  port: number;
}

/** The lease name of an apiserver: stable across restarts of the same one (host, address, port). */
export function identityLeaseName(address: string, port: number): string {
  const digest = createHash('sha256').update(`${hostname()}|${address}|${port}`).digest('hex');
  return `apiserver-${digest.slice(0, 16)}`;
}

/** The Endpoints subsets of these apiservers: one per port, addresses sorted and deduplicated. */
export function endpointSubsets(live: ApiserverAddress[]): EndpointSubset[] {
  const byPort = new Map<number, Set<string>>();
  for (const { address, port } of live) {
    let set = byPort.get(port);
    if (set === undefined) byPort.set(port, (set = new Set()));
    set.add(address);
  }
  return [...byPort.keys()]
    .sort((a, b) => a - b)
    .map((port) => ({
      addresses: [...(byPort.get(port) ?? [])].sort().map((ip) => ({ ip })),
      ports: [{ name: 'https', port, protocol: 'TCP' }],
    }));
}

/** Whether a lease is held now: renewed within its duration. */
function isLive(lease: Lease, now: Date): boolean {
  const renewed = Date.parse(lease.spec?.renewTime ?? '');
  const duration = lease.spec?.leaseDurationSeconds ?? 0;
  return Number.isFinite(renewed) && renewed + duration * 1000 > now.getTime();
}

/**
 * Whether an expired lease is old enough to delete: expired for ten of its durations, so an
 * apiserver that is only restarting keeps its lease (Kubernetes' apiserver lease GC deletes
 * the identity leases of apiservers that are gone).
 */
function isAbandoned(lease: Lease, now: Date): boolean {
  const renewed = Date.parse(lease.spec?.renewTime ?? '');
  const duration = Math.max(1, lease.spec?.leaseDurationSeconds ?? 0);
  return !Number.isFinite(renewed) || renewed + 11 * duration * 1000 < now.getTime();
}

function addressOf(lease: Lease): ApiserverAddress | undefined {
  const annotations = lease.metadata.annotations ?? {};
  const address = annotations[ADDRESS_ANNOTATION];
  const port = Number(annotations[PORT_ANNOTATION]);
  if (address === undefined || address === '' || !Number.isInteger(port) || port <= 0 || port > 65535) return undefined;
  return { address, port };
}

export class ApiserverIdentity {
  readonly leaseName: string;
  private readonly holder: string;
  private readonly store: RestStore;
  private readonly options: IdentityOptions;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(store: RestStore, options: IdentityOptions) {
    this.store = store;
    this.options = options;
    this.now = options.now ?? (() => new Date());
    this.leaseName = identityLeaseName(options.advertiseAddress, options.port);
    this.holder = `${this.leaseName}_${randomUUID()}`;
  }

  /** Writes the lease and the Endpoints once, then keeps them up to date. */
  async start(): Promise<void> {
    if (!this.options.leases) {
      const self = [{ address: this.options.advertiseAddress, port: this.options.port }];
      await this.reconcileEndpoints(self);
      await this.options.afterReconcile?.(self);
      return;
    }
    await this.tick();
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick()
        .catch((err: unknown) => this.options.log(`apiserver identity: ${errorMessage(err)}`))
        .finally(() => this.schedule());
    }, this.options.renewIntervalSeconds * 1000);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    await this.renew();
    await this.deleteAbandonedLeases();
    const live = await this.liveApiservers();
    await this.reconcileEndpoints(live);
    await this.options.afterReconcile?.(live);
  }

  /** Where every apiserver with a live lease is reached (this one included once renewed). */
  async liveApiservers(): Promise<ApiserverAddress[]> {
    const leases = await this.store.list(RESOURCES.leases, NAMESPACE, {
      labelSelector: `${IDENTITY_LABEL}=${IDENTITY_VALUE}`,
    });
    const now = this.now();
    return leases.items.filter((l) => isLive(l, now)).flatMap((l) => addressOf(l) ?? []);
  }

  /** Deletes the identity leases of apiservers long gone; a renewal racing the delete wins. */
  private async deleteAbandonedLeases(): Promise<void> {
    const leases = await this.store.list(RESOURCES.leases, NAMESPACE, {
      labelSelector: `${IDENTITY_LABEL}=${IDENTITY_VALUE}`,
    });
    const now = this.now();
    for (const lease of leases.items) {
      const name = lease.metadata.name ?? '';
      if (name === this.leaseName || !isAbandoned(lease, now)) continue;
      const resourceVersion = lease.metadata.resourceVersion;
      try {
        await this.store.delete(
          RESOURCES.leases,
          { namespace: NAMESPACE, name },
          resourceVersion === undefined ? {} : { preconditions: { resourceVersion } },
        );
        this.options.log(
          `apiserver identity: deleted the lease ${name} of an apiserver gone since ${lease.spec?.renewTime ?? '?'}`,
        );
      } catch (err) {
        if (!isNotFound(err) && !isConflict(err)) throw err;
      }
    }
  }

  private leaseBody(existing: Lease | undefined): Lease {
    const now = microTime(this.now());
    const spec = existing?.spec;
    return {
      ...existing,
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        ...existing?.metadata,
        name: this.leaseName,
        namespace: NAMESPACE,
        labels: {
          ...existing?.metadata.labels,
          [IDENTITY_LABEL]: IDENTITY_VALUE,
          'kubernetes.io/hostname': hostname(),
        },
        annotations: {
          ...existing?.metadata.annotations,
          [ADDRESS_ANNOTATION]: this.options.advertiseAddress,
          [PORT_ANNOTATION]: String(this.options.port),
        },
      },
      spec: {
        holderIdentity: this.holder,
        leaseDurationSeconds: this.options.leaseDurationSeconds,
        acquireTime: spec?.holderIdentity === this.holder ? (spec.acquireTime ?? now) : now,
        renewTime: now,
      },
    };
  }

  private async renew(): Promise<void> {
    const existing = await this.store.find(RESOURCES.leases, NAMESPACE, this.leaseName);
    try {
      if (existing === undefined)
        await this.store.create(RESOURCES.leases, { namespace: NAMESPACE, body: this.leaseBody(undefined) });
      else
        await this.store.update(
          RESOURCES.leases,
          { namespace: NAMESPACE, name: this.leaseName },
          { body: this.leaseBody(existing) },
        );
    } catch (err) {
      // Another writer in between (a restarted copy of this apiserver): the next tick renews.
      if (!isConflict(err) && !isAlreadyExists(err)) throw err;
    }
  }

  /** Makes `default/kubernetes` list these apiservers; writes only a change. */
  async reconcileEndpoints(live: ApiserverAddress[]): Promise<void> {
    const subsets = endpointSubsets(live);
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.store.find(RESOURCES.endpoints, 'default', 'kubernetes');
      if (current !== undefined && JSON.stringify(current.subsets ?? []) === JSON.stringify(subsets)) return;
      try {
        if (current === undefined) {
          const endpoints: Endpoints = {
            apiVersion: 'v1',
            kind: 'Endpoints',
            metadata: {
              name: 'kubernetes',
              namespace: 'default',
              labels: { 'endpointslice.kubernetes.io/skip-mirror': 'true' },
            },
            subsets,
          };
          await this.store.create(RESOURCES.endpoints, { namespace: 'default', body: endpoints });
        } else {
          await this.store.update(
            RESOURCES.endpoints,
            { namespace: 'default', name: 'kubernetes' },
            { body: { ...current, subsets } },
          );
        }
        return;
      } catch (err) {
        if (!isConflict(err) && !isAlreadyExists(err)) throw err;
      }
    }
  }

  /** Clean stop: no more renewals, the lease deleted, this apiserver out of the Endpoints. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    await this.running;
    if (!this.options.leases) return;
    try {
      await this.store.delete(RESOURCES.leases, { namespace: NAMESPACE, name: this.leaseName });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    await this.reconcileEndpoints(await this.liveApiservers());
  }
}
