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
  caPem: string | undefined;
  certPem: string | undefined;
  keyPem: string | undefined;
  token: string | undefined;
  namespace: string;
  userName: string;
}

interface Named {
  name: string;
  [k: string]: unknown;
}

function named(list: unknown, name: string, what: string, path: string): Record<string, unknown> {
  const entries = Array.isArray(list)
    ? (list.filter((e) => isObject(e) && typeof e['name'] === 'string') as Named[])
    : [];
  const found = entries.find((e) => e.name === name);
  const body = found?.[what];
  if (!isObject(body)) throw new Error(`kubeconfig ${path}: no ${what} named "${name}"`);
  return body;
}

function material(entry: Record<string, unknown>, dataKey: string, fileKey: string, base: string): string | undefined {
  const data = entry[dataKey];
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64').toString('utf8');
  const file = entry[fileKey];
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
  const context = named(doc['contexts'], contextName, 'context', path);
  const clusterName = String(context['cluster'] ?? '');
  const userName = String(context['user'] ?? '');
  const cluster = named(doc['clusters'], clusterName, 'cluster', path);
  const user = userName !== '' ? named(doc['users'], userName, 'user', path) : {};
  const base = dirname(path);
  const server = cluster['server'];
  if (typeof server !== 'string' || server === '')
    throw new Error(`kubeconfig ${path}: cluster "${clusterName}" has no server`);
  const token = typeof user['token'] === 'string' ? user['token'] : undefined;
  return {
    server: server.replace(/\/+$/, ''),
    caPem: material(cluster, 'certificate-authority-data', 'certificate-authority', base),
    certPem: material(user, 'client-certificate-data', 'client-certificate', base),
    keyPem: material(user, 'client-key-data', 'client-key', base),
    token,
    namespace:
      typeof context['namespace'] === 'string' && context['namespace'] !== '' ? context['namespace'] : 'default',
    userName,
  };
}
