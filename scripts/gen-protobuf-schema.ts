// Generates pkg/api/protobuf/schema.json: the protobuf message definitions (names, field
// numbers and types only) of every kind the apiserver serves, from Kubernetes' upstream
// `generated.proto` files, as a protobufjs JSON descriptor the codec loads at run time.
//
// Regenerate (after adding a kind to pkg/api/registry.ts, or to move to another release):
//   npm run build && node dist/scripts/gen-protobuf-schema.js [--tag v0.32.9] \
//     [--api /work/.mirror/kubernetes+api/repo] [--apimachinery /work/.mirror/kubernetes+apimachinery/repo]
// The two repositories are git clones of k8s.io/api and k8s.io/apimachinery; the files are read
// at the tag with `git show`, so the clones' work trees (when present) do not matter.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { RESOURCE_LIST as SERVED } from '../pkg/api/registry.js';
import { META_KINDS, protoPackageOf, RUNTIME_UNKNOWN, META_PACKAGE } from '../pkg/api/protobuf/names.js';

/**
 * The kinds whose messages k8s.io/api defines. CustomResourceDefinitions' live in
 * apiextensions-apiserver, the resource metrics' in k8s.io/metrics, outside this schema: they
 * are served as JSON only.
 */
const JSON_ONLY_GROUPS = new Set(['apiextensions.k8s.io', 'metrics.k8s.io']);
const RESOURCE_LIST = SERVED.filter((r) => !JSON_ONLY_GROUPS.has(r.group));

interface Options {
  tag: string;
  apiRepo: string;
  apimachineryRepo: string;
  out: string;
}

function parseArgs(argv: string[]): Options {
  const here = dirname(fileURLToPath(import.meta.url));
  // dist/scripts → the source tree's pkg/api/protobuf.
  const opts: Options = {
    tag: 'v0.32.9',
    apiRepo: '/work/.mirror/kubernetes+api/repo',
    apimachineryRepo: '/work/.mirror/kubernetes+apimachinery/repo',
    out: join(here, '..', '..', 'pkg', 'api', 'protobuf', 'schema.json'),
  };
  for (let i = 0; i < argv.length; i += 2) {
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${argv[i] ?? ''} needs a value`);
    if (argv[i] === '--tag') opts.tag = value;
    else if (argv[i] === '--api') opts.apiRepo = value;
    else if (argv[i] === '--apimachinery') opts.apimachineryRepo = value;
    else if (argv[i] === '--out') opts.out = value;
    else throw new Error(`unknown flag ${argv[i] ?? ''}`);
  }
  return opts;
}

function protoFiles(repo: string, tag: string): string[] {
  return execFileSync('git', ['-C', repo, 'ls-tree', '-r', '--name-only', tag], { encoding: 'utf8' })
    .split('\n')
    .filter((p) => p.endsWith('.proto'));
}

/** Copies every .proto of both repositories at `tag` into `root`, laid out as their imports name them. */
function extract(opts: Options, root: string): void {
  for (const [repo, prefix] of [
    [opts.apiRepo, 'k8s.io/api'],
    [opts.apimachineryRepo, 'k8s.io/apimachinery'],
  ] as const) {
    for (const path of protoFiles(repo, opts.tag)) {
      const text = execFileSync('git', ['-C', repo, 'show', `${opts.tag}:${path}`], { encoding: 'utf8' });
      const target = join(root, prefix, path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, text);
    }
  }
}

/** The fully qualified message names the codec starts from: served kinds, their lists, their subresources' kinds. */
function rootTypes(): string[] {
  const names = new Set<string>([RUNTIME_UNKNOWN]);
  for (const kind of META_KINDS) names.add(`${META_PACKAGE}.${kind}`);
  for (const r of RESOURCE_LIST) {
    names.add(`${protoPackageOf(r.group, r.version)}.${r.kind}`);
    if (r.verbs.includes('list')) names.add(`${protoPackageOf(r.group, r.version)}.${r.listKind}`);
    for (const s of r.subresources)
      names.add(`${protoPackageOf(s.responseKind.group, s.responseKind.version)}.${s.responseKind.kind}`);
  }
  return [...names];
}

/** Where a proto package's Go types are: `<repository>`, `<path>/types.go`. */
function goTypesOf(opts: Options, pkg: string): { repo: string; path: string } {
  if (pkg.startsWith('k8s.io.api.'))
    return { repo: opts.apiRepo, path: `${pkg.slice('k8s.io.api.'.length).replace(/\./g, '/')}/types.go` };
  return {
    repo: opts.apimachineryRepo,
    path: `${pkg.slice('k8s.io.apimachinery.'.length).replace(/\./g, '/')}/types.go`,
  };
}

/** Go scalar types whose zero value `omitempty` leaves out of JSON (when not behind a pointer). */
const GO_SCALARS = new Set(['bool', 'int', 'int32', 'int64', 'uint32', 'uint64', 'float32', 'float64']);

/**
 * What the proto files do not say about JSON, read from the Go types beside them (as
 * `<message full name>.<field>`): fields Go embeds with `json:",inline"` (Probe's handler,
 * Volume's volumeSource…), whose fields sit in the parent's JSON object; and non-pointer
 * numbers and booleans tagged `omitempty`, whose zero Go's protobuf encoder writes although
 * JSON leaves it out (`generation: 0`, `hostNetwork: false`).
 */
function goFieldFacts(opts: Options, packages: string[]): { inline: string[]; omitZero: string[] } {
  const inline: string[] = [];
  const omitZero: string[] = [];
  for (const pkg of packages) {
    const { repo, path } = goTypesOf(opts, pkg);
    let text: string;
    try {
      text = execFileSync('git', ['-C', repo, 'show', `${opts.tag}:${path}`], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    } catch {
      // Packages of generated code only (intstr, resource) have no types.go.
      continue;
    }
    let struct = '';
    for (const line of text.split('\n')) {
      const open = /^type (\w+) struct \{/.exec(line);
      if (open?.[1] !== undefined) struct = open[1];
      const field = /^\s+(\w+)\s+(\*?[\w.]*)\s*`json:"([^"]*)" protobuf:"([^"]*)"/.exec(line);
      if (field === null || struct === '') continue;
      const [, goName = '', goType = '', json = '', tag = ''] = field;
      const named = /name=(\w+)/.exec(tag)?.[1];
      if (json.startsWith(',inline')) {
        // An embedded struct's line has no type: its Go name is the type's.
        inline.push(`${pkg}.${struct}.${named ?? goName.charAt(0).toLowerCase() + goName.slice(1)}`);
      } else if (json.endsWith(',omitempty') && GO_SCALARS.has(goType) && named !== undefined) {
        omitZero.push(`${pkg}.${struct}.${named}`);
      }
    }
  }
  return { inline: inline.sort(), omitZero: omitZero.sort() };
}

/** Every message reachable from `roots` through field types. */
function reachable(root: protobuf.Root, roots: string[]): Set<string> {
  const seen = new Set<string>();
  const queue: protobuf.Type[] = [];
  const visit = (t: protobuf.Type): void => {
    const name = t.fullName.replace(/^\./, '');
    if (seen.has(name)) return;
    seen.add(name);
    queue.push(t);
  };
  for (const name of roots) {
    const t = root.lookup(name);
    // A subresource kind the registry names but no proto defines (PodExecOptions has one; a
    // made-up kind would not) is simply left out.
    if (t instanceof protobuf.Type) visit(t);
  }
  for (let t = queue.pop(); t !== undefined; t = queue.pop()) {
    for (const field of t.fieldsArray) {
      const target = field.resolve().resolvedType;
      if (target instanceof protobuf.Type) visit(target);
    }
  }
  return seen;
}

interface FieldJson {
  type: string;
  id: number;
  rule?: string;
  keyType?: string;
}

type Nested = Record<string, { nested?: Nested; fields?: Record<string, FieldJson> }>;

/** A descriptor of just the kept messages: names, numbers, types; types fully qualified. */
function descriptor(root: protobuf.Root, keep: Set<string>): { nested: Nested } {
  const top: Nested = {};
  for (const name of [...keep].sort()) {
    const t = root.lookup(name);
    if (!(t instanceof protobuf.Type)) continue;
    const fields: Record<string, FieldJson> = {};
    for (const f of t.fieldsArray) {
      f.resolve();
      const type = f.resolvedType === null ? f.type : f.resolvedType.fullName.replace(/^\./, '');
      const json: FieldJson = { type, id: f.id };
      if (f.repeated) json.rule = 'repeated';
      if (f instanceof protobuf.MapField) json.keyType = f.keyType;
      fields[f.name] = json;
    }
    const parts = name.split('.');
    let level = top;
    for (const part of parts.slice(0, -1)) {
      const ns = (level[part] ??= {});
      level = ns.nested ??= {};
    }
    level[parts[parts.length - 1] ?? name] = { fields };
  }
  return { nested: top };
}

function main(): void {
  const opts = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), 'coxswain-proto-'));
  try {
    extract(opts, work);
    const root = new protobuf.Root();
    root.resolvePath = (_origin, target) => join(work, target);
    const files = new Set<string>();
    for (const r of RESOURCE_LIST) {
      const pkg = protoPackageOf(r.group, r.version)
        .replace(/^k8s\.io\.api\./, '')
        .replace(/\./g, '/');
      files.add(`k8s.io/api/${pkg}/generated.proto`);
    }
    files.add('k8s.io/api/autoscaling/v1/generated.proto');
    files.add('k8s.io/api/policy/v1/generated.proto');
    root.loadSync([...files], { keepCase: true });
    root.resolveAll();
    const keep = reachable(root, rootTypes());
    const packages = [...keep].map((name) => name.slice(0, name.lastIndexOf('.')));
    const facts = goFieldFacts(opts, [...new Set(packages)].sort());
    const kept = (name: string): boolean => keep.has(name.slice(0, name.lastIndexOf('.')));
    const json = {
      ...descriptor(root, keep),
      inline: facts.inline.filter(kept),
      omitZero: facts.omitZero.filter(kept),
    };
    writeFileSync(opts.out, JSON.stringify(json, null, 1) + '\n');
    process.stdout.write(`wrote ${keep.size} messages to ${opts.out} (k8s.io/api ${opts.tag})\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
