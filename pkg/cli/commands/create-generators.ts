// coxctl create namespace|deployment|configmap|secret (generic, tls, docker-registry): the
// objects come from ./generators.ts; submitGenerated() is the one path that creates them
// (or only prints them with --dry-run=client, or has the server check them with
// --dry-run=server) and prints kubectl's line (`deployment.apps/web created (dry run)`) or
// the object (-o yaml|json|name). `run` and `expose` go through it too.

import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isObject, type KubeObject } from '../../api/meta.js';
import { findByKind, type ResourceInfo } from '../../api/registry.js';
import { ApiError, errorMessage } from '../../errors/index.js';
import { CliError, type CliContext } from '../context.js';
import { nameOf, renderObjects, toYaml } from '../output.js';
import {
  configMapObject,
  deploymentObject,
  dockerRegistrySecretObject,
  namespaceObject,
  parseEnvFile,
  parseFileSource,
  parseKeyValue,
  secretObject,
  tlsSecretObject,
  type DataEntry,
} from './generators.js';

export type DryRun = 'none' | 'client' | 'server';

/** --dry-run[=none|client|server]; bare --dry-run means client, as kubectl reads it. */
export function parseDryRun(value: string | boolean | undefined): DryRun {
  if (value === undefined || value === false || value === 'none' || value === 'false') return 'none';
  if (value === true || value === 'client' || value === 'true') return 'client';
  if (value === 'server') return 'server';
  throw new CliError(`Invalid dry-run value (${String(value)}). Must be "none", "server", or "client".`);
}

export interface OutputFlags {
  dryRun?: string | boolean;
  output?: string;
}

export interface SubmitOptions extends OutputFlags {
  /** The word after the name: `created`, `exposed`. */
  verb: string;
  /** kubectl wraps some create failures: `failed to create deployment: …`. */
  failurePrefix?: string;
}

function checkOutput(output: string | undefined): 'yaml' | 'json' | 'name' | undefined {
  if (output === undefined || output === '') return undefined;
  if (output === 'yaml' || output === 'json' || output === 'name') return output;
  throw new CliError(
    `unable to match a printer suitable for the output format "${output}", allowed formats are: json,name,yaml`,
  );
}

function resourceOf(obj: KubeObject): ResourceInfo {
  const r = findByKind(obj.apiVersion, obj.kind);
  if (r === undefined) throw new CliError(`no matches for kind "${obj.kind}" in version "${obj.apiVersion}"`);
  return r;
}

/**
 * What kubectl prints for a client-side dry run: the object as built, with the empty
 * creationTimestamp Go's encoder writes for it and for a pod template's metadata.
 */
function asBuilt(obj: KubeObject): unknown {
  const spec = obj['spec'];
  const template = isObject(spec) ? spec['template'] : undefined;
  const shownSpec =
    isObject(spec) && isObject(template) && isObject(template['metadata'])
      ? { ...spec, template: { ...template, metadata: { creationTimestamp: null, ...template['metadata'] } } }
      : spec;
  return {
    ...obj,
    metadata: { creationTimestamp: null, ...obj.metadata },
    ...(shownSpec !== undefined ? { spec: shownSpec } : {}),
  };
}

/** Creates (or dry-runs) a generated object and prints kubectl's answer. */
export async function submitGenerated(ctx: CliContext, obj: KubeObject, opts: SubmitOptions): Promise<void> {
  const dryRun = parseDryRun(opts.dryRun);
  const output = checkOutput(opts.output);
  const r = resourceOf(obj);
  const explicit = ctx.explicitNamespace();
  if (r.namespaced && explicit !== undefined && explicit !== '') obj.metadata.namespace = explicit;
  let result = obj;
  if (dryRun !== 'client') {
    try {
      result = await ctx.client().create(r, obj, {
        namespace: r.namespaced ? ctx.namespace() : undefined,
        fieldManager: 'kubectl-create',
        fieldValidation: 'Strict',
        dryRun: dryRun === 'server',
      });
    } catch (err) {
      if (opts.failurePrefix !== undefined && err instanceof ApiError)
        throw new CliError(`${opts.failurePrefix}${err.message}`);
      throw err;
    }
  }
  if (output === 'yaml' || output === 'json') {
    if (dryRun !== 'client') ctx.io.stdout(renderObjects([result], output, false));
    else ctx.io.stdout(output === 'json' ? JSON.stringify(asBuilt(result), null, 4) + '\n' : toYaml(asBuilt(result)));
  } else if (output === 'name') ctx.out(nameOf(result));
  else {
    const suffix = dryRun === 'client' ? ' (dry run)' : dryRun === 'server' ? ' (server dry run)' : '';
    ctx.out(`${nameOf(result)} ${opts.verb}${suffix}`);
  }
}

/** Reads a file for --from-file, with kubectl's error. */
function readSource(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    const code = err instanceof Error && 'code' in err ? String(err.code) : '';
    throw new CliError(
      `error reading ${path}: ${code === 'ENOENT' ? 'no such file or directory' : (errorMessage(err).split('\n')[0] ?? '')}`,
    );
  }
}

export interface DataFlags {
  fromLiteral?: string[];
  fromFile?: string[];
  fromEnvFile?: string[];
}

/** Every data entry of --from-literal, --from-file (a file or a folder's files), --from-env-file. */
export function dataEntries(flags: DataFlags): DataEntry[] {
  const entries: DataEntry[] = [];
  for (const spec of flags.fromFile ?? []) {
    const { key, path } = parseFileSource(spec);
    let isDir = false;
    try {
      isDir = statSync(path).isDirectory();
    } catch {
      readSource(path);
    }
    if (isDir) {
      if (key !== undefined) throw new CliError(`cannot give a key name for a directory path: ${path}`);
      for (const file of readdirSync(path).sort()) {
        const full = join(path, file);
        if (statSync(full).isFile()) entries.push({ key: file, value: readSource(full) });
      }
    } else entries.push({ key: key ?? basename(path), value: readSource(path) });
  }
  for (const literal of flags.fromLiteral ?? []) {
    const eq = literal.indexOf('=');
    if (eq <= 0) throw new CliError(`invalid literal source ${literal}, expected key=value`);
    const [key, value] = parseKeyValue(literal, 'literal source');
    entries.push({ key, value: Buffer.from(value, 'utf8') });
  }
  for (const file of flags.fromEnvFile ?? []) entries.push(...parseEnvFile(readSource(file).toString('utf8'), file));
  return entries;
}

export function runCreateNamespace(ctx: CliContext, name: string, flags: OutputFlags): Promise<void> {
  return submitGenerated(ctx, namespaceObject(name), { ...flags, verb: 'created' });
}

export interface CreateDeploymentFlags extends OutputFlags {
  image?: string[];
  replicas?: string;
  port?: string;
}

export function runCreateDeployment(
  ctx: CliContext,
  target: { name: string; command: string[] },
  flags: CreateDeploymentFlags,
): Promise<void> {
  const { name, command } = target;
  const images = flags.image ?? [];
  if (images.length === 0) throw new CliError('required flag(s) "image" not set');
  const replicas = Number(flags.replicas ?? '1');
  if (!Number.isInteger(replicas) || replicas < 0)
    throw new CliError(`invalid argument "${flags.replicas ?? ''}" for "-r, --replicas" flag`);
  let port: number | undefined;
  if (flags.port !== undefined) {
    port = Number(flags.port);
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      throw new CliError(`invalid argument "${flags.port}" for "--port" flag`);
    if (images.length > 1) throw new CliError('cannot specify port with multiple images');
  }
  return submitGenerated(
    ctx,
    deploymentObject({ name, images, replicas, command, ...(port !== undefined ? { port } : {}) }),
    {
      ...flags,
      verb: 'created',
      failurePrefix: 'failed to create deployment: ',
    },
  );
}

export function runCreateConfigMap(ctx: CliContext, name: string, flags: DataFlags & OutputFlags): Promise<void> {
  return submitGenerated(ctx, configMapObject(name, dataEntries(flags)), {
    ...flags,
    verb: 'created',
    failurePrefix: 'failed to create configmap: ',
  });
}

export function runCreateSecretGeneric(
  ctx: CliContext,
  name: string,
  flags: DataFlags & OutputFlags & { type?: string },
): Promise<void> {
  // kubectl's wording has no colon here.
  return submitGenerated(ctx, secretObject(name, dataEntries(flags), flags.type), {
    ...flags,
    verb: 'created',
    failurePrefix: 'failed to create secret ',
  });
}

/** The certificate and key must be PEM and belong together, as kubectl checks before sending. */
function checkKeyPair(cert: string, key: string): void {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(cert);
  } catch {
    // kubectl's (Go's crypto/tls) words, kept verbatim: users search for them.
    throw new CliError('tls: failed to find any PEM data in certificate input');
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    // kubectl's words, verbatim (as above).
    throw new CliError('tls: failed to find any PEM data in key input');
  }
  if (!x509.checkPrivateKey(privateKey)) throw new CliError('tls: private key does not match public key');
}

export function runCreateSecretTls(
  ctx: CliContext,
  name: string,
  flags: OutputFlags & { cert?: string; key?: string },
): Promise<void> {
  if (flags.cert === undefined || flags.key === undefined) throw new CliError('key and cert must be specified');
  const cert = readSource(flags.cert).toString('utf8');
  const key = readSource(flags.key).toString('utf8');
  checkKeyPair(cert, key);
  return submitGenerated(ctx, tlsSecretObject(name, { cert, key }), {
    ...flags,
    verb: 'created',
    failurePrefix: 'failed to create secret ',
  });
}

export interface DockerRegistryFlags extends OutputFlags {
  dockerServer: string;
  dockerUsername?: string;
  dockerPassword?: string;
  dockerEmail?: string;
}

export function runCreateSecretDockerRegistry(
  ctx: CliContext,
  name: string,
  flags: DockerRegistryFlags,
): Promise<void> {
  if (flags.dockerUsername === undefined || flags.dockerPassword === undefined)
    throw new CliError('missing required flag(s): docker-username, docker-password');
  return submitGenerated(
    ctx,
    dockerRegistrySecretObject(name, {
      server: flags.dockerServer,
      username: flags.dockerUsername,
      password: flags.dockerPassword,
      ...(flags.dockerEmail !== undefined ? { email: flags.dockerEmail } : {}),
    }),
    { ...flags, verb: 'created', failurePrefix: 'failed to create secret ' },
  );
}
