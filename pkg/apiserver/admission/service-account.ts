// ServiceAccount admission (Kubernetes' ServiceAccount plugin) for a pod being created: the pod
// runs as `default` unless it names an account; the account must exist; and unless the pod or
// the account opts out with `automountServiceAccountToken: false`, the pod gets the projected
// `kube-api-access-<suffix>` volume — a short-lived token bound to the pod, the cluster CA from
// `kube-root-ca.crt` and the namespace — mounted read-only in every container at the path
// client libraries read.

import { randomBytes } from 'node:crypto';
import type { Container, Pod, ServiceAccount, Volume } from '../../api/index.js';
import { ApiError } from '../../errors/index.js';

export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
/** What kube-apiserver asks for: a little over an hour, so kubelets refresh on their own schedule. */
export const PROJECTED_TOKEN_SECONDS = 3607;
const VOLUME_PREFIX = 'kube-api-access-';
const SUFFIX_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

export type ServiceAccountLookup = (namespace: string, name: string) => Promise<Readonly<ServiceAccount> | undefined>;

/** Kubernetes' generated-name suffix: 5 characters from its consonant-and-digit alphabet. */
function suffix(): string {
  return [...randomBytes(5)].map((b) => SUFFIX_ALPHABET[b % SUFFIX_ALPHABET.length] ?? 'x').join('');
}

function accessVolume(name: string): Volume {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: PROJECTED_TOKEN_SECONDS, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        {
          downwardAPI: {
            items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }],
          },
        },
      ],
    },
  };
}

function withMount(c: Container, volume: string): Container {
  const mounts = c.volumeMounts ?? [];
  if (mounts.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) return c;
  return { ...c, volumeMounts: [...mounts, { name: volume, mountPath: SERVICE_ACCOUNT_MOUNT_PATH, readOnly: true }] };
}

/**
 * The pod as it is admitted. A missing named account is a 403 as in Kubernetes; a missing
 * `default` account is let through, because the ServiceAccount controller creates it a moment
 * after the namespace and a pod created in that moment should not fail.
 */
export async function admitServiceAccount(
  pod: Pod,
  lookup: ServiceAccountLookup,
  opts: { mountToken: boolean } = { mountToken: true },
): Promise<Pod> {
  const spec = pod.spec;
  if (spec === undefined) return pod;
  const namespace = pod.metadata.namespace ?? 'default';
  const account = spec.serviceAccountName ?? spec.serviceAccount ?? 'default';
  const sa = await lookup(namespace, account);
  if (sa === undefined && account !== 'default') {
    throw new ApiError(
      'Forbidden',
      `pods "${pod.metadata.name ?? ''}" is forbidden: error looking up service account ${namespace}/${account}: serviceaccount "${account}" not found`,
      { details: { name: pod.metadata.name ?? '', kind: 'pods' } },
    );
  }
  const next: Pod = { ...pod, spec: { ...spec, serviceAccountName: account, serviceAccount: account } };
  const automount = spec.automountServiceAccountToken ?? sa?.automountServiceAccountToken ?? true;
  // Without ServiceAccount tokens on the apiserver there is nothing to mount.
  if (!automount || !opts.mountToken || next.spec === undefined) return next;
  const everyContainer = [...(spec.initContainers ?? []), ...spec.containers];
  if (everyContainer.every((c) => (c.volumeMounts ?? []).some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH))) {
    return next;
  }
  const name = `${VOLUME_PREFIX}${suffix()}`;
  next.spec.volumes = [...(spec.volumes ?? []), accessVolume(name)];
  next.spec.containers = spec.containers.map((c) => withMount(c, name));
  if (spec.initContainers !== undefined) next.spec.initContainers = spec.initContainers.map((c) => withMount(c, name));
  return next;
}
