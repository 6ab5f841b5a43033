// The objects kubectl's generators build (create namespace|deployment|configmap|secret, run,
// expose), as pure functions: the same object is sent to the server, printed by
// --dry-run=client -o yaml, and checked by the unit tests. Shapes follow kubectl 1.32's
// output (e.g. `run` labels `run=NAME`, `create deployment` names the container after the
// image, empty `resources: {}` and `status: {}` as kubectl sends them).

import type {
  ConfigMap,
  Container,
  Deployment,
  EnvVar,
  Namespace,
  Pod,
  Secret,
  Service,
  ServicePort,
} from '../../api/index.js';
import { CliError } from '../context.js';

/** A key=value from --from-literal, --env, --labels: split at the first `=`. */
export function parseKeyValue(text: string, what: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new CliError(`invalid ${what} ${text}, expected key=value`);
  return [text.slice(0, eq), text.slice(eq + 1)];
}

/** `a=1,b=2` (kubectl run --labels). */
export function parseLabelList(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid label spec: ${part}`);
    labels[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return labels;
}

/** The container name kubectl derives from an image: its last path part without tag or digest. */
export function containerNameFor(image: string): string {
  const base = image.split('/').pop() ?? image;
  const bare = base.split('@')[0]?.split(':')[0] ?? base;
  return bare.replace(/_/g, '-').toLowerCase();
}

export function namespaceObject(name: string): Namespace {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name }, spec: {}, status: {} };
}

export interface DeploymentInput {
  name: string;
  images: string[];
  replicas: number;
  /** containerPort of the first container. */
  port?: number;
  /** What follows `--`: the command of every container. */
  command?: string[];
}

export function deploymentObject(input: DeploymentInput): Deployment {
  const labels = { app: input.name };
  const used = new Set<string>();
  const containers: Container[] = input.images.map((image) => {
    let name = containerNameFor(image);
    for (let i = 1; used.has(name); i++) name = `${containerNameFor(image)}-${i}`;
    used.add(name);
    const container: Container = { image, name, resources: {} };
    if (input.command !== undefined && input.command.length > 0) container.command = input.command;
    return container;
  });
  const first = containers[0];
  if (first !== undefined && input.port !== undefined) first.ports = [{ containerPort: input.port }];
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: input.name, labels },
    spec: {
      replicas: input.replicas,
      selector: { matchLabels: labels },
      strategy: {},
      template: { metadata: { labels }, spec: { containers } },
    },
    status: {},
  };
}

/** One piece of data for a ConfigMap or Secret: text, or bytes that are not UTF-8. */
export interface DataEntry {
  key: string;
  value: Buffer;
}

/** Keys of ConfigMaps and Secrets: IsConfigMapKey. */
export function checkDataKey(key: string): void {
  if (!/^[-._a-zA-Z0-9]+$/.test(key) || key.length > 253)
    throw new CliError(
      `"${key}" is not valid key name for a ConfigMap: a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')`,
    );
}

/** `--from-file=[key=]path`: the key (default: the file's base name) and the path. */
export function parseFileSource(spec: string): { key: string | undefined; path: string } {
  const eq = spec.indexOf('=');
  if (eq < 0) return { key: undefined, path: spec };
  const key = spec.slice(0, eq);
  const path = spec.slice(eq + 1);
  if (key === '' || path === '') throw new CliError(`key names or file paths cannot be empty: "${spec}"`);
  return { key, path };
}

/** An env file (--from-env-file): KEY=VALUE lines; blank lines and `#` comments skipped. */
export function parseEnvFile(text: string, source: string): DataEntry[] {
  const out: DataEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '').replace(/^\s+/, '');
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq < 0 ? line : line.slice(0, eq);
    if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(key))
      throw new CliError(`"${key}" is not a valid key name in ${source} line ${i + 1}`);
    // A bare KEY takes its value from the environment, as kubectl does.
    const value = eq < 0 ? (process.env[key] ?? '') : line.slice(eq + 1);
    out.push({ key, value: Buffer.from(value, 'utf8') });
  });
  return out;
}

function isUtf8(value: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(value);
    return true;
  } catch {
    return false;
  }
}

function addUnique(seen: Set<string>, key: string, owner: string): void {
  checkDataKey(key);
  if (seen.has(key))
    throw new CliError(`cannot add key "${key}", another key by that name already exists in Data for ${owner}`);
  seen.add(key);
}

export function configMapObject(name: string, entries: DataEntry[]): ConfigMap {
  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  const seen = new Set<string>();
  for (const { key, value } of entries) {
    addUnique(seen, key, `ConfigMap "${name}"`);
    if (isUtf8(value)) data[key] = value.toString('utf8');
    else binaryData[key] = value.toString('base64');
  }
  const cm: ConfigMap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name } };
  if (Object.keys(data).length > 0) cm.data = data;
  if (Object.keys(binaryData).length > 0) cm.binaryData = binaryData;
  return cm;
}

export function secretObject(name: string, entries: DataEntry[], type?: string): Secret {
  const data: Record<string, string> = {};
  const seen = new Set<string>();
  for (const { key, value } of entries) {
    addUnique(seen, key, `Secret "${name}"`);
    data[key] = value.toString('base64');
  }
  const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name } };
  if (Object.keys(data).length > 0) secret.data = data;
  if (type !== undefined && type !== '') secret.type = type;
  return secret;
}

export function tlsSecretObject(name: string, pem: { cert: string; key: string }): Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    type: 'kubernetes.io/tls',
    data: {
      'tls.crt': Buffer.from(pem.cert).toString('base64'),
      'tls.key': Buffer.from(pem.key).toString('base64'),
    },
  };
}

export interface DockerRegistryInput {
  server: string;
  username: string;
  password: string;
  email?: string;
}

export function dockerRegistrySecretObject(name: string, input: DockerRegistryInput): Secret {
  const entry: Record<string, string> = {
    username: input.username,
    password: input.password,
    auth: Buffer.from(`${input.username}:${input.password}`).toString('base64'),
  };
  if (input.email !== undefined && input.email !== '') entry['email'] = input.email;
  const config = JSON.stringify({ auths: { [input.server]: entry } });
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name },
    type: 'kubernetes.io/dockerconfigjson',
    data: { '.dockerconfigjson': Buffer.from(config).toString('base64') },
  };
}

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';

export interface PodInput {
  name: string;
  image: string;
  /** Default: `run=NAME`. */
  labels?: Record<string, string>;
  env: string[];
  port?: number;
  restart: RestartPolicy;
  /** What follows `--`: the container's args, or its command with --command. */
  args: string[];
  command: boolean;
  stdin?: boolean;
  tty?: boolean;
}

export function podObject(input: PodInput): Pod {
  const container: Container = { image: input.image, name: input.name, resources: {} };
  if (input.args.length > 0) {
    if (input.command) container.command = input.args;
    else container.args = input.args;
  }
  if (input.env.length > 0)
    container.env = input.env.map((e): EnvVar => {
      const [name, value] = parseKeyValue(e, 'env');
      return { name, value };
    });
  if (input.port !== undefined) container.ports = [{ containerPort: input.port }];
  if (input.stdin === true) {
    container.stdin = true;
    container.stdinOnce = true;
  }
  if (input.tty === true) container.tty = true;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: input.name, labels: input.labels ?? { run: input.name } },
    spec: { containers: [container], dnsPolicy: 'ClusterFirst', restartPolicy: input.restart },
    status: {},
  };
}

export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer';

export interface ServiceInput {
  name: string;
  selector: Record<string, string>;
  labels?: Record<string, string>;
  /** --port, else the ports found on the exposed object. */
  ports: number[];
  targetPort?: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  type?: ServiceType;
}

/** kubectl's target port: a number when it reads as one, else a named port. */
function targetPortOf(text: string): number | string {
  return /^\d+$/.test(text) ? Number(text) : text;
}

export function serviceObject(input: ServiceInput): Service {
  const ports = input.ports.map((port, i): ServicePort => {
    const p: ServicePort = {
      port,
      protocol: input.protocol,
      targetPort: input.targetPort !== undefined ? targetPortOf(input.targetPort) : port,
    };
    if (input.ports.length > 1) p.name = `port-${i + 1}`;
    return p;
  });
  const svc: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: input.name },
    spec: { ports, selector: input.selector },
    status: { loadBalancer: {} },
  };
  if (input.labels !== undefined && Object.keys(input.labels).length > 0) svc.metadata.labels = input.labels;
  if (input.type !== undefined && svc.spec) svc.spec.type = input.type;
  return svc;
}

/** A port flag: 1..65535. */
export function parsePortFlag(text: string, flag: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 65535)
    throw new CliError(`invalid ${flag} ${JSON.stringify(text)}: must be a number from 1 to 65535`);
  return Number(text);
}
