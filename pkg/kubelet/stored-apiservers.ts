// The apiservers a joined agent keeps for its later starts: its kubeconfig names one server
// (kubectl reads a context as one cluster), the whole list it was given is a small file
// beside it (pki/apiservers, one URL a line), simple to read and to rewrite.

import { existsSync, readFileSync } from 'node:fs';
import { loadKubeconfig, parseApiserverList } from '../client/index.js';
import type { NodeCredentialFiles } from './bootstrap.js';
import { writeAtomic } from './files.js';

export function sameServer(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return a.replace(/\/+$/, '') === b.replace(/\/+$/, '');
  }
}

/** The apiservers a joined agent stored: its kubeconfig's server, then the rest of the list it was given. */
export function storedApiservers(files: NodeCredentialFiles): string[] {
  const servers = [loadKubeconfig({ path: files.kubeconfig }).server];
  if (!existsSync(files.apiservers)) return servers;
  try {
    for (const s of parseApiserverList(readFileSync(files.apiservers, 'utf8').split('\n').join(',')))
      if (!servers.some((known) => sameServer(known, s))) servers.push(s);
  } catch {
    // an unreadable list: the kubeconfig's server alone
  }
  return servers;
}

/** Stores the list of apiservers beside the kubeconfig (which names the first). */
export function saveApiservers(files: NodeCredentialFiles, servers: readonly string[]): void {
  writeAtomic(files.apiservers, servers.map((s) => `${s}\n`).join(''), 0o644);
}
