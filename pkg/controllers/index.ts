// The controllers the controller-manager can run, by name, on shared informers.

import type { KubeObject } from '../api/meta.js';
import { RESOURCES, type Resource } from '../api/registry.js';
import { Informer, type RestClient } from '../client/index.js';
import type { ControllerContext, ReconcileLoop } from './reconciler.js';
import { CronJobController } from './cronjob/cronjob-controller.js';
import { DaemonSetController } from './daemonset/daemonset-controller.js';
import { DeploymentController } from './deployment/deployment-controller.js';
import { DisruptionController } from './disruption/disruption-controller.js';
import { EndpointsController } from './endpoints/endpoints-controller.js';
import { EndpointSliceController } from './endpointslice/endpointslice-controller.js';
import { GarbageCollector } from './garbagecollector/garbage-collector.js';
import { CustomResourceInformers } from './custom-resources.js';
import { JobController } from './job/job-controller.js';
import { NamespaceController } from './namespace/namespace-controller.js';
import { NodeLifecycleController } from './nodelifecycle/node-lifecycle-controller.js';
import { PodGcController, type PodGcOptions } from './podgc/pod-gc-controller.js';
import {
  REPLICASET_KIND,
  REPLICATIONCONTROLLER_KIND,
  ReplicaSetController,
} from './replicaset/replicaset-controller.js';
import { ServiceAccountController } from './serviceaccount/serviceaccount-controller.js';
import { StatefulSetController } from './statefulset/statefulset-controller.js';
import { BootstrapSignerController } from './bootstrap/bootstrap-signer.js';
import { TokenCleanerController } from './bootstrap/token-cleaner.js';
import { CsrApproverController } from './certificates/csr-approver.js';
import { CsrSignerController, type SigningOptions } from './certificates/csr-signer.js';
import { NodeIpamController, type NodeIpamOptions } from './nodeipam/nodeipam-controller.js';
import { ClusterRoleAggregationController } from './clusterroleaggregation/clusterrole-aggregation-controller.js';
import { RootCaPublisher } from './rootcacertpublisher/root-ca-publisher.js';
import { PersistentVolumeController } from './volume/persistent-volume-controller.js';
import { ServiceLbController } from './servicelb/servicelb-controller.js';
import { ResourceQuotaController } from './resourcequota/resource-quota-controller.js';
import { HorizontalPodAutoscalerController, type PodAutoscalerOptions } from './podautoscaler/horizontal.js';
import { ControllerCredentials, SERVICE_ACCOUNT_OF, type CredentialsClock } from './credentials.js';

export const CONTROLLER_NAMES = [
  'namespace',
  'replicaset',
  'replicationcontroller',
  'deployment',
  'daemonset',
  'statefulset',
  'job',
  'cronjob',
  'endpoints',
  'endpointslice',
  'serviceaccount',
  'nodelifecycle',
  'garbagecollector',
  'podgc',
  'bootstrapsigner',
  'tokencleaner',
  'csrapproving',
  'csrsigning',
  'nodeipam',
  'clusterrole-aggregation',
  'root-ca-cert-publisher',
  'persistentvolume-binder',
  'disruption',
  'servicelb',
  'resourcequota',
  'horizontalpodautoscaling',
] as const;
export type ControllerName = (typeof CONTROLLER_NAMES)[number];

export interface ControllerManagerOptions {
  client: RestClient;
  controllers: readonly ControllerName[];
  log: (msg: string) => void;
  /** How long a node may go without renewing its Lease before it is Unknown (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
  /** The cluster CA for csrsigning; without it that controller does not run. */
  signing?: SigningOptions;
  /** Pod CIDRs for nodes; without it nodeipam does not run. */
  nodeIpam?: NodeIpamOptions;
  /** Pod garbage collection; Kubernetes' defaults where left out (threshold 12500, quarantine 40 s, every 20 s). */
  podGc?: Partial<PodGcOptions>;
  /** The CA bundle published as `kube-root-ca.crt` in every namespace; without it that controller does not run. */
  rootCaPem?: string;
  /** Each controller writes as ServiceAccount kube-system/<its name> (--use-service-account-credentials). */
  useServiceAccountCredentials?: boolean;
  /** The HPA controller's sync period, downscale stabilization window and tolerance. */
  podAutoscaler?: Partial<PodAutoscalerOptions>;
  /** Time for the token refresh (tests). */
  credentialsClock?: CredentialsClock;
}

/** What SharedInformers.start needs of an informer of any type. */
interface Startable {
  start(signal: AbortSignal): void;
  waitForSync(signal: AbortSignal): Promise<unknown>;
}

/** Shared informers, each created on first use so only what the chosen controllers need is watched. */
class SharedInformers {
  private readonly created: Startable[] = [];
  constructor(private readonly client: RestClient) {}

  readonly pods = this.shared(RESOURCES.pods);
  readonly nodes = this.shared(RESOURCES.nodes);
  readonly namespaces = this.shared(RESOURCES.namespaces);
  readonly replicasets = this.shared(RESOURCES.replicasets);
  readonly replicationcontrollers = this.shared(RESOURCES.replicationcontrollers);
  readonly deployments = this.shared(RESOURCES.deployments);
  readonly daemonsets = this.shared(RESOURCES.daemonsets);
  readonly statefulsets = this.shared(RESOURCES.statefulsets);
  readonly controllerrevisions = this.shared(RESOURCES.controllerrevisions);
  readonly jobs = this.shared(RESOURCES.jobs);
  readonly cronjobs = this.shared(RESOURCES.cronjobs);
  readonly services = this.shared(RESOURCES.services);
  readonly endpoints = this.shared(RESOURCES.endpoints);
  readonly endpointslices = this.shared(RESOURCES.endpointslices);
  readonly serviceaccounts = this.shared(RESOURCES.serviceaccounts);
  readonly leases = this.shared(RESOURCES.leases);
  readonly configmaps = this.shared(RESOURCES.configmaps);
  readonly secrets = this.shared(RESOURCES.secrets);
  readonly csrs = this.shared(RESOURCES.certificatesigningrequests);
  readonly clusterroles = this.shared(RESOURCES.clusterroles);
  readonly persistentvolumes = this.shared(RESOURCES.persistentvolumes);
  readonly persistentvolumeclaims = this.shared(RESOURCES.persistentvolumeclaims);
  readonly storageclasses = this.shared(RESOURCES.storageclasses);
  readonly poddisruptionbudgets = this.shared(RESOURCES.poddisruptionbudgets);
  readonly resourcequotas = this.shared(RESOURCES.resourcequotas);
  readonly horizontalpodautoscalers = this.shared(RESOURCES.horizontalpodautoscalers);

  /** A getter for the informer of `r`: the first call creates it, later calls share it. */
  private shared<T extends KubeObject>(r: Resource<T>): () => Informer<T> {
    let informer: Informer<T> | undefined;
    return () => {
      if (informer === undefined) {
        informer = new Informer(this.client, r, { resyncMs: 30_000, stripManagedFields: true });
        this.created.push(informer);
      }
      return informer;
    };
  }

  async start(signal: AbortSignal): Promise<void> {
    for (const inf of this.created) inf.start(signal);
    await Promise.all(this.created.map((inf) => inf.waitForSync(signal)));
  }
}

/** Starts the chosen controllers; resolves when they stop (after abort). */
export async function runControllers(opts: ControllerManagerOptions, signal: AbortSignal): Promise<void> {
  const { client, log } = opts;
  const credentials =
    opts.useServiceAccountCredentials === true
      ? new ControllerCredentials({ client, log, ...(opts.credentialsClock ? { clock: opts.credentialsClock } : {}) })
      : undefined;
  try {
    await runTerm(opts, credentials, signal);
  } finally {
    credentials?.close();
  }
}

/** The context of each chosen controller: its own client when it has credentials, else the shared one. */
async function controllerContexts(
  opts: ControllerManagerOptions,
  credentials: ControllerCredentials | undefined,
  signal: AbortSignal,
): Promise<(name: ControllerName) => ControllerContext> {
  const { client, log } = opts;
  const contexts = new Map<ControllerName, ControllerContext>();
  if (credentials !== undefined)
    for (const name of opts.controllers)
      contexts.set(name, { client: await credentials.clientWhenReady(SERVICE_ACCOUNT_OF[name], signal), log });
  return (name) => contexts.get(name) ?? { client, log };
}

async function runTerm(
  opts: ControllerManagerOptions,
  credentials: ControllerCredentials | undefined,
  signal: AbortSignal,
): Promise<void> {
  const { client, log } = opts;
  const contextOf = await controllerContexts(opts, credentials, signal);
  // The informers watch with the controller-manager's own identity, as in Kubernetes.
  const shared = new SharedInformers(client);
  const want = (n: ControllerName): boolean => opts.controllers.includes(n);
  const loops: ReconcileLoop[] = [];
  const add = (controller: { loop: ReconcileLoop }): void => void loops.push(controller.loop);
  // Custom resources are followed for the controllers that handle every kind.
  const custom = want('namespace') || want('garbagecollector') ? new CustomResourceInformers(client) : undefined;
  if (want('namespace'))
    add(
      new NamespaceController({
        ...contextOf('namespace'),
        namespaces: shared.namespaces(),
        customResources: () => custom?.resources() ?? [],
      }),
    );
  if (want('replicaset'))
    add(
      new ReplicaSetController({
        ...contextOf('replicaset'),
        replicasets: shared.replicasets(),
        pods: shared.pods(),
        kind: REPLICASET_KIND,
      }),
    );
  if (want('replicationcontroller')) {
    const kind = REPLICATIONCONTROLLER_KIND;
    add(
      new ReplicaSetController({
        ...contextOf('replicationcontroller'),
        replicasets: shared.replicationcontrollers(),
        pods: shared.pods(),
        kind,
      }),
    );
  }
  if (want('deployment')) {
    const deps = {
      ...contextOf('deployment'),
      deployments: shared.deployments(),
      replicasets: shared.replicasets(),
      pods: shared.pods(),
    };
    add(new DeploymentController(deps));
  }
  if (want('daemonset'))
    add(
      new DaemonSetController({
        ...contextOf('daemonset'),
        daemonsets: shared.daemonsets(),
        nodes: shared.nodes(),
        pods: shared.pods(),
        revisions: shared.controllerrevisions(),
      }),
    );
  if (want('statefulset'))
    add(
      new StatefulSetController({
        ...contextOf('statefulset'),
        sets: shared.statefulsets(),
        pods: shared.pods(),
        revisions: shared.controllerrevisions(),
      }),
    );
  if (want('cronjob'))
    add(new CronJobController({ ...contextOf('cronjob'), cronjobs: shared.cronjobs(), jobs: shared.jobs() }));
  if (want('job')) add(new JobController({ ...contextOf('job'), jobs: shared.jobs(), pods: shared.pods() }));
  if (want('endpoints'))
    add(
      new EndpointsController({
        ...contextOf('endpoints'),
        services: shared.services(),
        pods: shared.pods(),
        endpoints: shared.endpoints(),
      }),
    );
  if (want('endpointslice'))
    add(
      new EndpointSliceController({
        ...contextOf('endpointslice'),
        services: shared.services(),
        pods: shared.pods(),
        endpoints: shared.endpoints(),
        slices: shared.endpointslices(),
      }),
    );
  if (want('serviceaccount'))
    add(
      new ServiceAccountController({
        ...contextOf('serviceaccount'),
        namespaces: shared.namespaces(),
        accounts: shared.serviceaccounts(),
      }),
    );
  if (want('nodelifecycle')) {
    const options = { gracePeriodMs: opts.nodeMonitorGracePeriodMs ?? 50_000, monitorPeriodMs: 1000 };
    const deps = {
      ...contextOf('nodelifecycle'),
      nodes: shared.nodes(),
      leases: shared.leases(),
      pods: shared.pods(),
      options,
    };
    add(new NodeLifecycleController(deps));
  }
  if (want('garbagecollector')) {
    const owners = [
      shared.pods(),
      shared.replicasets(),
      shared.replicationcontrollers(),
      shared.deployments(),
      shared.jobs(),
      shared.cronjobs(),
      shared.daemonsets(),
      shared.statefulsets(),
      shared.controllerrevisions(),
      shared.endpointslices(),
      shared.persistentvolumeclaims(),
    ];
    add(new GarbageCollector({ ...contextOf('garbagecollector'), informers: owners, custom }));
  }
  if (want('podgc')) {
    const options = { terminatedPodThreshold: 12_500, quarantineMs: 40_000, periodMs: 20_000, ...opts.podGc };
    add(new PodGcController({ ...contextOf('podgc'), pods: shared.pods(), nodes: shared.nodes(), options }));
  }
  if (want('bootstrapsigner'))
    add(
      new BootstrapSignerController({
        ...contextOf('bootstrapsigner'),
        configMaps: shared.configmaps(),
        secrets: shared.secrets(),
      }),
    );
  if (want('tokencleaner'))
    add(new TokenCleanerController({ ...contextOf('tokencleaner'), secrets: shared.secrets() }));
  if (want('csrapproving')) add(new CsrApproverController({ ...contextOf('csrapproving'), csrs: shared.csrs() }));
  if (want('csrsigning')) {
    if (opts.signing === undefined)
      log('csrsigning: no --cluster-signing-cert-file/--cluster-signing-key-file; not running');
    else add(new CsrSignerController({ ...contextOf('csrsigning'), csrs: shared.csrs(), options: opts.signing }));
  }
  if (want('nodeipam') && opts.nodeIpam !== undefined)
    add(new NodeIpamController({ ...contextOf('nodeipam'), nodes: shared.nodes(), options: opts.nodeIpam }));
  if (want('clusterrole-aggregation'))
    add(
      new ClusterRoleAggregationController({
        ...contextOf('clusterrole-aggregation'),
        clusterRoles: shared.clusterroles(),
      }),
    );
  if (want('servicelb'))
    add(new ServiceLbController({ ...contextOf('servicelb'), services: shared.services(), nodes: shared.nodes() }));
  if (want('horizontalpodautoscaling'))
    add(
      new HorizontalPodAutoscalerController({
        ...contextOf('horizontalpodautoscaling'),
        hpas: shared.horizontalpodautoscalers(),
        pods: shared.pods(),
        ...(opts.podAutoscaler !== undefined && { options: opts.podAutoscaler }),
      }),
    );
  if (want('root-ca-cert-publisher')) {
    if (opts.rootCaPem === undefined)
      log('root-ca-cert-publisher: no --root-ca-file and no CA in the kubeconfig; not running');
    else {
      const deps = {
        ...contextOf('root-ca-cert-publisher'),
        namespaces: shared.namespaces(),
        configMaps: shared.configmaps(),
        caPem: opts.rootCaPem,
      };
      add(new RootCaPublisher(deps));
    }
  }
  if (want('persistentvolume-binder'))
    add(
      new PersistentVolumeController({
        ...contextOf('persistentvolume-binder'),
        volumes: shared.persistentvolumes(),
        claims: shared.persistentvolumeclaims(),
        classes: shared.storageclasses(),
        pods: shared.pods(),
        nodes: shared.nodes(),
      }),
    );
  if (want('disruption'))
    add(
      new DisruptionController({
        ...contextOf('disruption'),
        budgets: shared.poddisruptionbudgets(),
        pods: shared.pods(),
        deployments: shared.deployments(),
        replicasets: shared.replicasets(),
        statefulsets: shared.statefulsets(),
        replicationcontrollers: shared.replicationcontrollers(),
      }),
    );
  if (want('resourcequota')) {
    const counted = [
      shared.pods(),
      shared.services(),
      shared.configmaps(),
      shared.secrets(),
      shared.persistentvolumeclaims(),
      shared.replicationcontrollers(),
    ];
    add(new ResourceQuotaController({ ...contextOf('resourcequota'), quotas: shared.resourcequotas(), counted }));
  }
  await shared.start(signal);
  await custom?.start(signal);
  log(`controllers started: ${opts.controllers.join(', ')}`);
  await Promise.all(loops.map((l) => l.run(signal)));
}
