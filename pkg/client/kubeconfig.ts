// Loading a kubeconfig as kubectl does: an explicit path, else $KUBECONFIG (first file),
// else ~/.kube/config; the current (or named) context; credentials as *-data fields or
// files relative to the kubeconfig's folder.

import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import yaml from 'js-yaml';
import { isObject } from '../api/meta.js';
import { errorMessage } from '../errors/index.js';

export interface ClientConfig {
  server: string;
  /**
   * Every apiserver to use, preferred first (--apiservers, a joined agent's list); without
   * it just `server`. The client fails over between them (rest-client.ts).
   */
  servers?: readonly string[];
  caPem: string | undefined;
  certPem: string | undefined;
  keyPem: string | undefined;
  token: string | undefined;
  namespace: string;
  userName: string;
  /** Act as this user (kubectl's --as): sent as Impersonate-User; RBAC must allow `impersonate`. */
  impersonateUser?: string;
}

/** The `what` body of the entry called `name` in one of a kubeconfig's lists (contexts, clusters, users). */
function named(list: unknown, name: string, what: string): Record<string, unknown> | undefined {
  const entry: unknown = Array.isArray(list) ? list.find((e) => isObject(e) && e['name'] === name) : undefined;
  const body = isObject(entry) ? entry[what] : undefined;
  return isObject(body) ? body : undefined;
}

/** A credential given inline (`<key>-data`, base64) or as a file (`<key>`, relative to the kubeconfig's folder). */
function material(entry: Record<string, unknown>, key: string, base: string): string | undefined {
  const data = entry[`${key}-data`];
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64').toString('utf8');
  const file = entry[key];
  if (typeof file === 'string' && file !== '') return readFileSync(isAbsolute(file) ? file : join(base, file), 'utf8');
  return undefined;
}

export function kubeconfigPath(explicit?: string): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  const env = process.env['KUBECONFIG'];
  if (env !== undefined && env !== '') {
    const first = env.split(':').find((p) => p !== '' && existsSync(p));
    if (first !== undefined) return first;
  }
  return join(homedir(), '.kube', 'config');
}

export function loadKubeconfig(opts: { path?: string; context?: string } = {}): ClientConfig {
  const path = kubeconfigPath(opts.path);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new Error(`cannot read kubeconfig "${path}" (set --kubeconfig or KUBECONFIG)`);
  }
  let doc: unknown;
  try {
    doc = yaml.load(text);
  } catch (err) {
    throw new Error(`kubeconfig ${path} is not valid YAML: ${errorMessage(err).split('\n')[0]}`);
  }
  if (!isObject(doc)) throw new Error(`kubeconfig ${path} is empty`);
  const contextName = opts.context ?? (typeof doc['current-context'] === 'string' ? doc['current-context'] : '');
  if (contextName === '') throw new Error(`kubeconfig ${path} has no current-context`);
  const section = (what: 'context' | 'cluster' | 'user', name: string): Record<string, unknown> => {
    const body = named(doc[`${what}s`], name, what);
    if (body === undefined) throw new Error(`kubeconfig ${path}: no ${what} named "${name}"`);
    return body;
  };
  const context = section('context', contextName);
  const clusterName = String(context['cluster'] ?? '');
  const userName = String(context['user'] ?? '');
  const cluster = section('cluster', clusterName);
  const user = userName !== '' ? section('user', userName) : {};
  const base = dirname(path);
  const server = cluster['server'];
  if (typeof server !== 'string' || server === '')
    throw new Error(`kubeconfig ${path}: cluster "${clusterName}" has no server`);
  const token = typeof user['token'] === 'string' ? user['token'] : undefined;
  return {
    server: server.replace(/\/+$/, ''),
    caPem: material(cluster, 'certificate-authority', base),
    certPem: material(user, 'client-certificate', base),
    keyPem: material(user, 'client-key', base),
    token,
    namespace:
      typeof context['namespace'] === 'string' && context['namespace'] !== '' ? context['namespace'] : 'default',
    userName,
  };
}

/** The config with `servers` to use instead of its single `server` (the first becomes `server`). */
export function withApiservers(config: ClientConfig, servers: readonly string[]): ClientConfig {
  const [first] = servers;
  if (first === undefined) return config;
  return { ...config, server: first, servers };
}
