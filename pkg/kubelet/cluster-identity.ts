// Which cluster the things an agent makes on a machine belong to. Several clusters may share
// one machine and one dockerd, so every Docker object, iptables chain and route of an agent
// is named or labelled after its cluster, and an agent (or `down`) lists, adopts and removes
// only those of its own cluster. The identity is the first 8 hex digits of the sha256 of the
// cluster CA's SubjectPublicKeyInfo: the hash of the join command's
// --discovery-token-ca-cert-hash, which down.sh can also compute with openssl.

import { caPublicKeyHash } from '../pki/index.js';

export interface ClusterIdentity {
  /** 8 lowercase hex digits. */
  id: string;
  /** Docker network of this cluster's pods on this machine. */
  podNetwork: string;
  /** Its Linux bridge (interface names are at most 15 characters). */
  podBridge: string;
  /** Prefix of every iptables chain of this cluster (chain names are at most 28 characters). */
  chainPrefix: string;
}

export function clusterIdentity(caPem: string): ClusterIdentity {
  const id = caPublicKeyHash(caPem).slice('sha256:'.length, 'sha256:'.length + 8);
  return identityFromId(id);
}

export function identityFromId(id: string): ClusterIdentity {
  if (!/^[0-9a-f]{8}$/.test(id)) throw new Error(`cluster id "${id}" is not 8 hex digits`);
  return { id, podNetwork: `cox-pods-${id}`, podBridge: `coxp${id}`, chainPrefix: `CX${id.toUpperCase()}-` };
}
