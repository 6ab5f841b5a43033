// What a node may claim in a certificate it asks for. A serving certificate may name only the
// node itself: its name, and the host names and addresses its Node object reports — never
// `kubernetes`, the Service IP or loopback, or a server with that certificate could pose as
// the apiserver to every client of the cluster CA. A bootstrap token may get a client
// certificate only for a name no Node has yet; an existing node renews with its own identity.

import type { Node } from '../../api/types/index.js';
import type { CsrInfo } from '../../pki/index.js';

export type ClaimCheck = { ok: true } | { ok: false; reason: string };

const NODE_PREFIX = 'system:node:';
const DNS_TYPES = ['Hostname', 'InternalDNS', 'ExternalDNS'];
const IP_TYPES = ['InternalIP', 'ExternalIP'];

/** Whether every SAN of a kubelet serving request belongs to the node it names. */
export function servingNamesBelongToNode(request: CsrInfo, node: Readonly<Node> | undefined): ClaimCheck {
  const name = request.commonName.slice(NODE_PREFIX.length);
  if (node === undefined) return { ok: false, reason: `node "${name}" is not registered` };
  const addresses = node.status?.addresses ?? [];
  const dns = new Set([name, ...addresses.filter((a) => DNS_TYPES.includes(a.type)).map((a) => a.address)]);
  const ips = new Set(addresses.filter((a) => IP_TYPES.includes(a.type)).map((a) => a.address));
  const foreignDns = request.dnsNames.filter((d) => !dns.has(d));
  const foreignIps = request.ipAddresses.filter((ip) => !ips.has(ip));
  if (foreignDns.length === 0 && foreignIps.length === 0) return { ok: true };
  const listed = [...foreignDns, ...foreignIps].map((s) => JSON.stringify(s)).join(', ');
  return { ok: false, reason: `names not owned by node "${name}": ${listed}` };
}

/** Whether a bootstrap token may get a client certificate for the node name it asks for. */
export function bootstrapNameIsFree(request: CsrInfo, existing: Readonly<Node> | undefined): ClaimCheck {
  if (existing === undefined) return { ok: true };
  const name = request.commonName.slice(NODE_PREFIX.length);
  return {
    ok: false,
    reason: `node "${name}" is already registered; a bootstrap token cannot take over its name (delete the Node to join again under it)`,
  };
}
