// The apiservers a client may talk to (k3s' agent load balancer, smaller): those it was
// given (kubeconfig or --apiservers, first preferred) and those it learned from the
// `default/kubernetes` Endpoints. One of them is current and stays so until a request to it
// fails (no per-request round robin); then the next one in the list takes over.

import { isIP } from 'node:net';
import { isObject } from '../api/meta.js';

/** More learned addresses than this are ignored (the Endpoints come from the wire). */
const MAX_LEARNED = 16;

function normalize(server: string): string {
  return server.replace(/\/+$/, '');
}

/** The distinct `https://` URLs of a comma-separated list (`--apiservers`, join's `--server`); throws on a bad one. */
export function parseApiserverList(text: string): string[] {
  const servers: string[] = [];
  for (const item of text.split(',')) {
    const trimmed = item.trim();
    if (trimmed === '') continue;
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new Error(`"${trimmed}" is not a URL (want https://host:port)`);
    }
    if (url.protocol !== 'https:') throw new Error(`"${trimmed}" is not an https:// URL`);
    const server = normalize(url.origin);
    if (!servers.includes(server)) servers.push(server);
  }
  if (servers.length === 0) throw new Error('no apiserver URL given');
  return servers;
}

export class Apiservers {
  private readonly given: string[];
  private learned: string[] = [];
  private currentServer: string;

  /** `given` in order of preference; at least one. */
  constructor(given: readonly string[]) {
    const servers = [...new Set(given.map(normalize))];
    const first = servers[0];
    if (first === undefined) throw new Error('a client needs at least one apiserver');
    this.given = servers;
    this.currentServer = first;
  }

  /** The apiserver requests go to until it fails. */
  get current(): string {
    return this.currentServer;
  }

  /** Every known apiserver: the given ones, then the learned ones not among them. */
  all(): string[] {
    return [...this.given, ...this.learned.filter((s) => !this.given.includes(s))];
  }

  /** The order one request tries them in: the current one first, then the others after it in the list. */
  candidates(): string[] {
    const all = this.all();
    const at = all.indexOf(this.currentServer);
    if (at < 0) return [this.currentServer, ...all];
    return [...all.slice(at), ...all.slice(0, at)];
  }

  /** `server` answered: it is (or stays) the current one. */
  succeeded(server: string): void {
    this.currentServer = server;
  }

  /** `server` failed: if it was the current one, the next in the list takes over. */
  failed(server: string): void {
    if (server !== this.currentServer) return;
    const next = this.candidates()[1];
    if (next !== undefined) this.currentServer = next;
  }

  /** Replaces the learned apiservers (the given ones always stay, as the fallback). */
  learn(servers: readonly string[]): void {
    this.learned = [...new Set(servers.map(normalize))].slice(0, MAX_LEARNED);
  }
}

/**
 * The apiservers the `default/kubernetes` Endpoints name: every address with the `https`
 * port (or the subset's only port), as `https://ip:port`. Anything malformed is skipped.
 */
export function apiserversFromEndpoints(endpoints: unknown): string[] {
  const out: string[] = [];
  const subsets = isObject(endpoints) ? endpoints['subsets'] : undefined;
  if (!Array.isArray(subsets)) return out;
  for (const subset of subsets.slice(0, MAX_LEARNED)) {
    if (!isObject(subset)) continue;
    const port = httpsPort(subset['ports']);
    const addresses = subset['addresses'];
    if (port === undefined || !Array.isArray(addresses)) continue;
    for (const address of addresses.slice(0, MAX_LEARNED)) {
      const ip = isObject(address) ? address['ip'] : undefined;
      if (typeof ip !== 'string') continue;
      const family = isIP(ip);
      if (family === 0) continue;
      const server = family === 6 ? `https://[${ip}]:${port}` : `https://${ip}:${port}`;
      if (!out.includes(server)) out.push(server);
      if (out.length >= MAX_LEARNED) return out;
    }
  }
  return out;
}

function httpsPort(ports: unknown): number | undefined {
  if (!Array.isArray(ports)) return undefined;
  const valid = ports.filter(
    (p): p is Record<string, unknown> =>
      isObject(p) && Number.isInteger(p['port']) && Number(p['port']) > 0 && Number(p['port']) < 65536,
  );
  const chosen = valid.find((p) => p['name'] === 'https') ?? (valid.length === 1 ? valid[0] : undefined);
  return chosen === undefined ? undefined : Number(chosen['port']);
}
