// Node-level filters: readiness (a NotReady node is as if tainted not-ready), cordon
// (spec.unschedulable), and host-port conflicts.

import { SUCCESS, unschedulable, type FilterPlugin, type NodeView } from '../framework.js';
import { hostPortsOf } from '../resources.js';
import { tolerates } from '../../api/node-matching.js';

function readyStatus(node: NodeView): string {
  return node.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown';
}

export const nodeReady: FilterPlugin = {
  name: 'NodeReady',
  filter(pod, n) {
    const status = readyStatus(n.node);
    if (status === 'True') return SUCCESS;
    const key = status === 'False' ? 'node.kubernetes.io/not-ready' : 'node.kubernetes.io/unreachable';
    if (tolerates(pod, { key, effect: 'NoSchedule' })) return SUCCESS;
    return unschedulable(`node(s) had untolerated taint {${key}: }`, true);
  },
};

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter(pod, n) {
    if (n.node.spec?.unschedulable !== true) return SUCCESS;
    if (tolerates(pod, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' })) return SUCCESS;
    return unschedulable('node(s) were unschedulable', true);
  },
};

export const nodePorts: FilterPlugin = {
  name: 'NodePorts',
  filter(pod, n) {
    for (const port of hostPortsOf(pod)) {
      const [proto, , num] = port.split('/');
      for (const used of n.usedHostPorts) {
        const [uproto, , unum] = used.split('/');
        if (uproto === proto && unum === num)
          return unschedulable("node(s) didn't have free ports for the requested pod ports");
      }
    }
    return SUCCESS;
  },
};
