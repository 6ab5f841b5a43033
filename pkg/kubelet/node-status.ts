// The node's registration and heartbeats: the Node object with what this host has
// (capacity, addresses, nodeInfo, conditions), a Lease in kube-node-lease renewed every
// 10 s, and a status update when anything changes and at least every minute. The Lease
// records which agent holds the node name (an annotation with the agent's identity): an
// agent refuses to start with a name whose Lease another agent keeps fresh, and an agent
// restarted on the same root dir (same identity) takes its own Lease back at once.

import { microTime, rfc3339 } from '../api/meta.js';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { RESOURCES } from '../api/registry.js';
import type { ConditionStatus, Lease, LeaseSpec, Node, NodeCondition, NodeStatus } from '../api/types/index.js';
import type { RestClient } from '../client/index.js';
import { errorMessage, isAlreadyExists, isConflict, isNotFound } from '../errors/index.js';

const NODES = RESOURCES.nodes;
const LEASES = RESOURCES.leases;
export const KUBELET_VERSION = 'v1.32.4-coxswain';
/** Annotation of the node Lease naming the agent that holds it. */
export const AGENT_ANNOTATION = 'coxswain.io/agent-id';

/** The node name is held by another live agent. */
export class NodeNameTaken extends Error {}

export interface NodeStatusConfig {
  /** This agent's identity, recorded in the Lease. */
  agentId: string;
  nodeName: string;
  nodeIP: string;
  kubeletPort: number;
  maxPods: number;
  leaseDurationSeconds: number;
  leaseRenewIntervalMs: number;
  statusUpdateIntervalMs: number;
  labels: Record<string, string>;
  /** Annotations the agent publishes on its Node (where its local-path volumes live). */
  annotations?: Record<string, string>;
  containerRuntimeVersion: string;
}

function osImage(): string {
  try {
    const m = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)"?/m);
    return m?.[1] ?? 'Linux';
  } catch {
    return 'Linux';
  }
}

function readId(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

export class NodeStatusReporter {
  private lastPosted: unknown;
  private lastPostedAt = 0;
  private readonly transitions = new Map<string, string>();

  constructor(
    private readonly client: RestClient,
    private readonly config: NodeStatusConfig,
  ) {}

  private measure(now: Date): NodeStatus {
    const memKi = Math.floor(os.totalmem() / 1024);
    const capacity = {
      cpu: String(os.cpus().length),
      memory: `${memKi}Ki`,
      pods: String(this.config.maxPods),
      'ephemeral-storage': '100Gi',
    };
    const free = os.freemem() / os.totalmem();
    // Each condition keeps its lastTransitionTime while its status stays the same.
    const cond = (c: { type: string; status: ConditionStatus; reason: string; message: string }): NodeCondition => {
      const { type, status } = c;
      const key = `${type}=${status}`;
      const prevKey = [...this.transitions.keys()].find((k) => k.startsWith(`${type}=`));
      if (prevKey !== key) {
        if (prevKey !== undefined) this.transitions.delete(prevKey);
        this.transitions.set(key, rfc3339(now));
      }
      return {
        ...c,
        lastHeartbeatTime: rfc3339(now),
        lastTransitionTime: this.transitions.get(key),
      };
    };
    return {
      capacity,
      allocatable: capacity,
      conditions: [
        cond(
          free < 0.05
            ? {
                type: 'MemoryPressure',
                status: 'True',
                reason: 'KubeletHasInsufficientMemory',
                message: 'kubelet has insufficient memory available',
              }
            : {
                type: 'MemoryPressure',
                status: 'False',
                reason: 'KubeletHasSufficientMemory',
                message: 'kubelet has sufficient memory available',
              },
        ),
        cond({
          type: 'DiskPressure',
          status: 'False',
          reason: 'KubeletHasNoDiskPressure',
          message: 'kubelet has no disk pressure',
        }),
        cond({
          type: 'PIDPressure',
          status: 'False',
          reason: 'KubeletHasSufficientPID',
          message: 'kubelet has sufficient PID available',
        }),
        cond({ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }),
      ],
      addresses: [
        { type: 'InternalIP', address: this.config.nodeIP },
        { type: 'Hostname', address: this.config.nodeName },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: this.config.kubeletPort } },
      nodeInfo: {
        machineID: readId('/etc/machine-id'),
        systemUUID: readId('/sys/class/dmi/id/product_uuid'),
        bootID: readId('/proc/sys/kernel/random/boot_id'),
        kernelVersion: os.release(),
        osImage: osImage(),
        containerRuntimeVersion: this.config.containerRuntimeVersion,
        kubeletVersion: KUBELET_VERSION,
        kubeProxyVersion: KUBELET_VERSION,
        operatingSystem: 'linux',
        architecture: process.arch === 'x64' ? 'amd64' : process.arch,
      },
    };
  }

  /** Creates the Node (or takes over an existing one of the same name). */
  async register(): Promise<Node> {
    const now = new Date();
    const node: Node = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: {
        name: this.config.nodeName,
        labels: {
          'kubernetes.io/hostname': this.config.nodeName,
          'kubernetes.io/os': 'linux',
          'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
          ...this.config.labels,
        },
        ...(this.config.annotations === undefined ? {} : { annotations: { ...this.config.annotations } }),
      },
      spec: {},
      status: this.measure(now),
    };
    try {
      const created = await this.client.create(NODES, node);
      this.lastPosted = node.status;
      this.lastPostedAt = Date.now();
      return created;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    await this.client.patch(NODES, this.config.nodeName, {
      type: 'merge',
      body: { metadata: { labels: node.metadata.labels, annotations: node.metadata.annotations } },
    });
    await this.postStatus(true);
    return this.client.get(NODES, this.config.nodeName);
  }

  /** Posts the node status when it changed (ignoring heartbeat times) or a minute passed. */
  async postStatus(force = false): Promise<void> {
    const status = this.measure(new Date());
    const comparable = (s: unknown): unknown =>
      JSON.parse(JSON.stringify(s ?? null, (k, v: unknown) => (k === 'lastHeartbeatTime' ? undefined : v)));
    if (
      !force &&
      isDeepStrictEqual(comparable(status), comparable(this.lastPosted)) &&
      Date.now() - this.lastPostedAt < this.config.statusUpdateIntervalMs
    )
      return;
    await this.client.patch(NODES, this.config.nodeName, {
      type: 'strategic',
      body: { status },
      subresource: 'status',
    });
    this.lastPosted = status;
    this.lastPostedAt = Date.now();
  }

  /**
   * Refuses (NodeNameTaken) when the node's Lease is held by another agent and still fresh;
   * a Lease of this agent, an expired one or none is fine.
   */
  async checkNodeName(now = Date.now()): Promise<void> {
    const name = this.config.nodeName;
    let lease: Lease;
    try {
      lease = await this.client.get(LEASES, name, { namespace: 'kube-node-lease' });
    } catch (err) {
      if (isNotFound(err)) return;
      throw err;
    }
    const holder = lease.metadata.annotations?.[AGENT_ANNOTATION];
    if (holder === this.config.agentId) return;
    const spec: LeaseSpec = lease.spec ?? {};
    const renewed = typeof spec.renewTime === 'string' ? Date.parse(spec.renewTime) : NaN;
    const duration =
      typeof spec.leaseDurationSeconds === 'number' ? spec.leaseDurationSeconds : this.config.leaseDurationSeconds;
    if (!Number.isFinite(renewed) || renewed + duration * 1000 <= now) return;
    const who =
      holder !== undefined
        ? `agent ${holder}`
        : `another agent (holderIdentity ${String(spec.holderIdentity ?? 'unknown')}, no ${AGENT_ANNOTATION})`;
    const ago = Math.max(0, Math.round((now - renewed) / 1000));
    throw new NodeNameTaken(
      `node name "${name}" is in use: its Lease is held by ${who}, renewed ${ago} s ago (valid ${duration} s); stop that agent or start this one with another --node-name`,
    );
  }

  /** Creates or renews this node's Lease. */
  async renewLease(nodeUid: string | undefined): Promise<void> {
    const now = microTime(new Date());
    const name = this.config.nodeName;
    try {
      const lease = await this.client.get(LEASES, name, { namespace: 'kube-node-lease' });
      const spec = {
        ...lease.spec,
        holderIdentity: name,
        leaseDurationSeconds: this.config.leaseDurationSeconds,
        renewTime: now,
      };
      const metadata = {
        ...lease.metadata,
        annotations: { ...lease.metadata.annotations, [AGENT_ANNOTATION]: this.config.agentId },
      };
      await this.client.update(LEASES, { ...lease, metadata, spec }, { namespace: 'kube-node-lease' });
    } catch (err) {
      if (isConflict(err)) return;
      if (!isNotFound(err)) throw err;
      await this.client.create(
        LEASES,
        {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: {
            name,
            namespace: 'kube-node-lease',
            annotations: { [AGENT_ANNOTATION]: this.config.agentId },
            ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: nodeUid }] } : {}),
          },
          spec: {
            holderIdentity: name,
            leaseDurationSeconds: this.config.leaseDurationSeconds,
            renewTime: now,
            acquireTime: now,
          },
        },
        { namespace: 'kube-node-lease' },
      );
    }
  }

  /** Checks the node name is free, registers, then keeps the Lease and status fresh until aborted. */
  async run(signal: AbortSignal, log: (m: string) => void): Promise<void> {
    await this.checkNodeName();
    const node = await this.register();
    log(`registered node ${this.config.nodeName}`);
    const loop = (fn: () => Promise<void>, everyMs: number, what: string): void => {
      const tick = (): void => {
        if (signal.aborted) return;
        fn()
          .catch((err: unknown) => log(`${what}: ${errorMessage(err)}`))
          .finally(() => {
            if (!signal.aborted) setTimeout(tick, everyMs).unref();
          });
      };
      tick();
    };
    loop(() => this.renewLease(node.metadata.uid), this.config.leaseRenewIntervalMs, 'lease renewal');
    loop(() => this.postStatus(), Math.min(10_000, this.config.statusUpdateIntervalMs), 'node status');
  }
}
