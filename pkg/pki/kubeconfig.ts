// kubeconfig files in kubectl's format, with the credentials embedded as *-data fields.

import { writeFileSync } from 'node:fs';
import yaml from 'js-yaml';

export interface KubeconfigSpec {
  clusterName: string;
  server: string;
  caPem: string;
  userName: string;
  certPem: string;
  keyPem: string;
  namespace?: string;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');

export function renderKubeconfig(spec: KubeconfigSpec): string {
  const context = `${spec.userName}@${spec.clusterName}`;
  return yaml.dump(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        { name: spec.clusterName, cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) } },
      ],
      users: [
        {
          name: spec.userName,
          user: { 'client-certificate-data': b64(spec.certPem), 'client-key-data': b64(spec.keyPem) },
        },
      ],
      contexts: [
        {
          name: context,
          context: {
            cluster: spec.clusterName,
            user: spec.userName,
            ...(spec.namespace ? { namespace: spec.namespace } : {}),
          },
        },
      ],
      'current-context': context,
      preferences: {},
    },
    { lineWidth: -1 },
  );
}

/** Writes a kubeconfig readable only by its owner (it holds a private key). */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): void {
  writeFileSync(path, renderKubeconfig(spec), { mode: 0o600 });
}
