// Node IPAM (Kubernetes' nodeipam controller, range allocator): gives every Node without one
// a pod CIDR (a /24 by default) from the cluster CIDR, written to spec.podCIDR(s). A
// block is free when no Node holds it; a deleted Node's block is reused after it is gone.
// Allocation happens synchronously before any await, so two workers never hand out one block.

import { RESOURCES } from '../../api/registry.js';
import type { Node } from '../../api/types/index.js';
import { formatCidr, nodePodCidr, parseCidr, subnet, type Cidr } from '../../api/cidr.js';
import type { EventRecorder, Informer, RestClient } from '../../client/index.js';
import { isNotFound } from '../../errors/index.js';
import { ReconcileLoop, type ControllerContext } from '../reconciler.js';

const NODES = RESOURCES.nodes;

export interface NodeIpamOptions {
  clusterCIDR: string;
  nodeMaskSize: number;
}

export class NodeIpamController {
  readonly loop: ReconcileLoop;
  private readonly cluster: Cidr;
  /** Blocks handed out whose Node update the cache has not shown yet. */
  private readonly pending = new Map<string, string>();
  private readonly client: RestClient;
  private readonly nodes: Informer<Node>;
  private readonly options: NodeIpamOptions;
  private readonly events?: EventRecorder;

  constructor(deps: ControllerContext & { nodes: Informer<Node>; options: NodeIpamOptions; events?: EventRecorder }) {
    const { client, nodes, options, log, events } = deps;
    this.client = client;
    this.nodes = nodes;
    this.options = options;
    this.events = events;
    const cluster = parseCidr(options.clusterCIDR);
    if (cluster === undefined || options.nodeMaskSize < cluster.bits || options.nodeMaskSize > 30) {
      throw new Error(
        `nodeipam: cluster CIDR ${options.clusterCIDR} with node mask /${options.nodeMaskSize} is not usable`,
      );
    }
    this.cluster = cluster;
    this.loop = new ReconcileLoop('nodeipam', (key) => this.reconcile(key), { log });
    nodes.addHandler({
      onAdd: (n) => this.loop.enqueue(n.metadata.name ?? ''),
      onUpdate: (_o, n) => this.loop.enqueue(n.metadata.name ?? ''),
    });
  }

  private allocate(nodeName: string): string | undefined {
    const used = new Set<string>(this.pending.values());
    for (const n of this.nodes.list()) {
      const c = nodePodCidr(n);
      if (c !== undefined) used.add(c);
    }
    for (let i = 0; ; i++) {
      const block = subnet(this.cluster, this.options.nodeMaskSize, i);
      if (block === undefined) return undefined;
      const text = formatCidr(block);
      if (!used.has(text)) {
        this.pending.set(nodeName, text);
        return text;
      }
    }
  }

  async reconcile(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (node === undefined || node.metadata.deletionTimestamp !== undefined) {
      this.pending.delete(name);
      return;
    }
    if (nodePodCidr(node) !== undefined) {
      this.pending.delete(name);
      return;
    }
    const cidr = this.pending.get(name) ?? this.allocate(name);
    if (cidr === undefined) {
      this.events?.warning(node, 'CIDRNotAvailable', `Node ${name} status is now: CIDRNotAvailable`);
      throw new Error(`no pod CIDR left in ${this.options.clusterCIDR} for node ${name}`);
    }
    try {
      await this.client.patch(NODES, name, { type: 'merge', body: { spec: { podCIDR: cidr, podCIDRs: [cidr] } } });
    } catch (err) {
      this.pending.delete(name);
      if (!isNotFound(err)) throw err;
    }
  }
}
