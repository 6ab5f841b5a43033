// Learning the live apiservers, as k3s' agent does: the `default/kubernetes` Endpoints list
// the address of every apiserver whose identity lease is live; a client given one address
// reads them periodically and can then fail over to the others. The addresses it was given
// stay as the fallback (a read that fails or lists nothing changes nothing).

import { RESOURCES, resourcePath } from '../api/registry.js';
import { sleep } from '../component/index.js';
import { apiserversFromEndpoints } from './apiservers.js';
import type { RestClient } from './rest-client.js';

export interface ApiserverDiscoveryOptions {
  /** Time between reads (default 30 s). */
  intervalMs?: number;
  /** Told when the learned list changes. */
  onChange?: (servers: string[]) => void;
}

/** Reads the Endpoints once and hands their apiservers to the client; false when the read failed. */
export async function learnApiservers(client: RestClient, onChange?: (servers: string[]) => void): Promise<boolean> {
  let endpoints: unknown;
  try {
    endpoints = await client.requestJson<unknown>({
      method: 'GET',
      path: resourcePath(RESOURCES.endpoints, { namespace: 'default', name: 'kubernetes' }),
      timeoutMs: 10_000,
    });
  } catch {
    return false;
  }
  const servers = apiserversFromEndpoints(endpoints);
  if (servers.length === 0) return true;
  const before = client.apiservers.all().join(',');
  client.apiservers.learn(servers);
  if (client.apiservers.all().join(',') !== before) onChange?.(servers);
  return true;
}

/** Keeps learning every interval until `signal` aborts (one read at a time, bounded by its timeout). */
export function discoverApiservers(
  client: RestClient,
  signal: AbortSignal,
  opts: ApiserverDiscoveryOptions = {},
): void {
  const interval = opts.intervalMs ?? 30_000;
  void (async () => {
    while (!signal.aborted) {
      await learnApiservers(client, opts.onChange);
      await sleep(interval, signal);
    }
  })();
}
