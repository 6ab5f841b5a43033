// The controllers the controller-manager can run, by name, on shared informers.

import { mustFind } from '../api/registry.js';
import { Informer, type RestClient } from '../client/index.js';
import { CronJobController } from './cronjob/cronjob-controller.js';
import { DaemonSetController } from './daemonset/daemonset-controller.js';
import { DeploymentController } from './deployment/deployment-controller.js';
import { EndpointsController } from './endpoints/endpoints-controller.js';
import { GarbageCollector } from './garbagecollector/garbage-collector.js';
import { JobController } from './job/job-controller.js';
import { NamespaceController } from './namespace/namespace-controller.js';
import { NodeLifecycleController } from './nodelifecycle/node-lifecycle-controller.js';
import { PodGcController, type PodGcOptions } from './podgc/pod-gc-controller.js';
import { ReplicaSetController } from './replicaset/replicaset-controller.js';
import { ServiceAccountController } from './serviceaccount/serviceaccount-controller.js';
import { StatefulSetController } from './statefulset/statefulset-controller.js';
import { BootstrapSignerController } from './bootstrap/bootstrap-signer.js';
import { TokenCleanerController } from './bootstrap/token-cleaner.js';
import { CsrApproverController } from './certificates/csr-approver.js';
import { CsrSignerController, type SigningOptions } from './certificates/csr-signer.js';
import { NodeIpamController, type NodeIpamOptions } from './nodeipam/nodeipam-controller.js';

export const CONTROLLER_NAMES = [
  'namespace',
  'replicaset',
  'deployment',
  'daemonset',
  'statefulset',
  'job',
  'cronjob',
  'endpoints',
  'serviceaccount',
  'nodelifecycle',
  'garbagecollector',
  'podgc',
  'bootstrapsigner',
  'tokencleaner',
  'csrapproving',
  'csrsigning',
  'nodeipam',
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
}

/** Shared informers, created on first use so only what the chosen controllers need is watched. */
class SharedInformers {
  private readonly informers = new Map<string, Informer>();
  constructor(private readonly client: RestClient) {}

  get(group: string, version: string, plural: string): Informer {
    const key = `${group}/${version}/${plural}`;
    let inf = this.informers.get(key);
    if (inf === undefined) {
      inf = new Informer(this.client, mustFind(group, version, plural), { resyncMs: 30_000 });
      this.informers.set(key, inf);
    }
    return inf;
  }

  async start(signal: AbortSignal): Promise<void> {
    for (const inf of this.informers.values()) inf.start(signal);
    await Promise.all([...this.informers.values()].map((inf) => inf.waitForSync(signal)));
  }
}

/** Starts the chosen controllers; resolves when they stop (after abort). */
export async function runControllers(opts: ControllerManagerOptions, signal: AbortSignal): Promise<void> {
  const { client, log } = opts;
  const informers = new SharedInformers(client);
  const want = (n: ControllerName): boolean => opts.controllers.includes(n);
  const pods = (): Informer => informers.get('', 'v1', 'pods');
  const loops: { run: (s: AbortSignal) => Promise<void> }[] = [];
  if (want('namespace')) loops.push(new NamespaceController(client, informers.get('', 'v1', 'namespaces'), log).loop);
  if (want('replicaset'))
    loops.push(new ReplicaSetController(client, informers.get('apps', 'v1', 'replicasets'), pods(), log).loop);
  if (want('deployment'))
    loops.push(
      new DeploymentController(
        client,
        informers.get('apps', 'v1', 'deployments'),
        informers.get('apps', 'v1', 'replicasets'),
        pods(),
        log,
      ).loop,
    );
  if (want('daemonset'))
    loops.push(
      new DaemonSetController(
        client,
        informers.get('apps', 'v1', 'daemonsets'),
        informers.get('', 'v1', 'nodes'),
        pods(),
        log,
      ).loop,
    );
  if (want('statefulset'))
    loops.push(new StatefulSetController(client, informers.get('apps', 'v1', 'statefulsets'), pods(), log).loop);
  if (want('cronjob'))
    loops.push(
      new CronJobController(client, informers.get('batch', 'v1', 'cronjobs'), informers.get('batch', 'v1', 'jobs'), log)
        .loop,
    );
  if (want('job')) loops.push(new JobController(client, informers.get('batch', 'v1', 'jobs'), pods(), log).loop);
  if (want('endpoints'))
    loops.push(
      new EndpointsController(
        client,
        informers.get('', 'v1', 'services'),
        pods(),
        informers.get('', 'v1', 'endpoints'),
        log,
      ).loop,
    );
  if (want('serviceaccount'))
    loops.push(
      new ServiceAccountController(
        client,
        informers.get('', 'v1', 'namespaces'),
        informers.get('', 'v1', 'serviceaccounts'),
        log,
      ).loop,
    );
  if (want('nodelifecycle')) {
    const nl = new NodeLifecycleController(
      client,
      informers.get('', 'v1', 'nodes'),
      informers.get('coordination.k8s.io', 'v1', 'leases'),
      pods(),
      {
        gracePeriodMs: opts.nodeMonitorGracePeriodMs ?? 50_000,
        monitorPeriodMs: 1000,
      },
      log,
    );
    loops.push({ run: (s) => nl.run(s) });
  }
  if (want('garbagecollector')) {
    const gc = new GarbageCollector(
      client,
      [
        pods(),
        informers.get('apps', 'v1', 'replicasets'),
        informers.get('apps', 'v1', 'deployments'),
        informers.get('batch', 'v1', 'jobs'),
        informers.get('batch', 'v1', 'cronjobs'),
        informers.get('apps', 'v1', 'daemonsets'),
        informers.get('apps', 'v1', 'statefulsets'),
      ],
      log,
    );
    loops.push({ run: (s) => gc.run(s) });
  }
  if (want('podgc')) {
    const gc = new PodGcController(
      client,
      pods(),
      informers.get('', 'v1', 'nodes'),
      { terminatedPodThreshold: 12_500, quarantineMs: 40_000, periodMs: 20_000, ...opts.podGc },
      log,
    );
    loops.push({ run: (s) => gc.run(s) });
  }
  const secrets = (): Informer => informers.get('', 'v1', 'secrets');
  const csrs = (): Informer => informers.get('certificates.k8s.io', 'v1', 'certificatesigningrequests');
  if (want('bootstrapsigner'))
    loops.push(new BootstrapSignerController(client, informers.get('', 'v1', 'configmaps'), secrets(), log).loop);
  if (want('tokencleaner')) loops.push(new TokenCleanerController(client, secrets(), log).loop);
  if (want('csrapproving')) loops.push(new CsrApproverController(client, csrs(), log).loop);
  if (want('csrsigning')) {
    if (opts.signing === undefined)
      log('csrsigning: no --cluster-signing-cert-file/--cluster-signing-key-file; not running');
    else loops.push(new CsrSignerController(client, csrs(), opts.signing, log).loop);
  }
  if (want('nodeipam') && opts.nodeIpam !== undefined)
    loops.push(new NodeIpamController(client, informers.get('', 'v1', 'nodes'), opts.nodeIpam, log).loop);
  await informers.start(signal);
  log(`controllers started: ${opts.controllers.join(', ')}`);
  await Promise.all(loops.map((l) => l.run(signal)));
}
