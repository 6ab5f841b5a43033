// local-path volumes on this node: the folder the agent publishes on its Node (the PV
// controller provisions hostPath volumes under it), and the removal of a volume's folder
// once the PV controller deleted a volume whose reclaim policy is Delete. Only folders
// directly under the root are ever removed.

import { rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RESOURCES } from '../api/registry.js';
import type { PersistentVolume } from '../api/types/index.js';
import { LOCAL_PATH_PROVISIONER, PROVISIONED_BY_ANNOTATION } from '../api/volume-binding.js';
import { Informer, type RestClient } from '../client/index.js';

export function localPathRoot(rootDir: string): string {
  return resolve(rootDir, 'storage');
}

/** The folder of a deleted local-path volume of this node to remove, if it is one. */
export function folderToRemove(volume: Readonly<PersistentVolume>, root: string): string | undefined {
  if (volume.metadata.annotations?.[PROVISIONED_BY_ANNOTATION] !== LOCAL_PATH_PROVISIONER) return undefined;
  if (volume.spec?.persistentVolumeReclaimPolicy !== 'Delete') return undefined;
  const path = volume.spec.hostPath?.path;
  if (path === undefined || !path.startsWith('/')) return undefined;
  const folder = resolve(path);
  return dirname(folder) === root && folder !== root ? folder : undefined;
}

/** Watches volumes and removes the folders of this node's deleted local-path volumes. */
export function startLocalPathCleaner(
  client: RestClient,
  at: { rootDir: string; log: (m: string) => void },
  signal: AbortSignal,
): void {
  const root = localPathRoot(at.rootDir);
  const volumes = new Informer(client, RESOURCES.persistentvolumes);
  volumes.addHandler({
    onDelete: (v) => {
      const folder = folderToRemove(v, root);
      if (folder === undefined) return;
      try {
        rmSync(folder, { recursive: true, force: true });
        at.log(`local-path: removed ${folder} of deleted volume ${v.metadata.name ?? ''}`);
      } catch (err) {
        at.log(`local-path: removing ${folder}: ${String(err)}`);
      }
    },
  });
  volumes.start(signal);
}
