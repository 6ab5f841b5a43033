// Where an apiserver's CPU time went, from a V8 .cpuprofile (`node --cpu-prof`; the API
// benchmark writes one with `--profile-dir`): each sample's time goes to the innermost frame of
// coxswain's own code on its stack, classified by file (and, for encoding, by function); a
// sample with no own frame goes by the runtime's frame (TLS, HTTP, GC, idle). Prints a
// Markdown table of categories in % of the busy time, then the top functions by self time.
//
// Run: node dist/scripts/profile-summary.js DIR-OR-FILE.cpuprofile

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function isCpuProfile(v: unknown): v is CpuProfile {
  if (typeof v !== 'object' || v === null) return false;
  return 'nodes' in v && Array.isArray(v.nodes) && 'samples' in v && Array.isArray(v.samples) && 'timeDeltas' in v;
}

/** Own code's files, first match wins; tested against the path below dist/. */
const OWN_RULES: readonly [RegExp, string][] = [
  [/^pkg\/storage\/sqlite-store|^pkg\/storage\/(store|errors)/, 'store (SQLite, its JSON)'],
  [/^pkg\/storage\/|^pkg\/apiserver\/(watch-transport|watch-filter|store-mirror)/, 'watch cache, watchers'],
  [/^pkg\/apiserver\/(authn|authorizer|authorization-sources|impersonation|rbac\/|nodeauth\/)/, 'authn / authz'],
  [/^pkg\/apiserver\/(admission\/|admit-body|namespace-lifecycle|service-allocator)/, 'admission'],
  [/^pkg\/api\/(schema|validation|defaults|decode\/plain-data)|^pkg\/api\/.*valid/, 'validation / defaults / schema'],
  [
    /^pkg\/api\/decode\/|^pkg\/apiserver\/(body|request-info|negotiation|request-options)/,
    'parsing (body, path, query)',
  ],
  [/^pkg\/api\/protobuf\/|^pkg\/apiserver\/table/, 'encoding the answer'],
  [/^pkg\/apiserver\/(request-limits|metrics)|^pkg\/metrics/, 'metrics, request limits'],
  [/^pkg\/apiserver\/audit\/|^pkg\/log/, 'logging, audit'],
  [/^pkg\/api\/meta/, 'deep copies, metadata'],
];

/** Runtime frames, when no own code is on the stack. */
const RUNTIME_RULES: readonly [RegExp, string][] = [
  [/^\(garbage collector\)$/, 'garbage collection'],
  [/^\(idle\)$/, 'idle'],
  [/node:_tls|node:tls|node:internal\/tls/, 'TLS (incl. encrypting socket writes)'],
  [/better-sqlite3/, 'store (SQLite, its JSON)'],
  [
    /node:_http|node:internal\/http|\/express\/|node:net|node:internal\/streams|node:stream/,
    'HTTP server (node, express)',
  ],
];

/** Native writes on a socket, by name (they have no script URL). */
const SOCKET_WRITES = /^(writev|writeBuffer|write\w+String)$/;

/** The path of Coxswain's own compiled code below its build folder (dist/ or another outDir). */
function ownPath(url: string): string | undefined {
  if (!url.startsWith('file://') || url.includes('/node_modules/')) return undefined;
  return /\/((?:pkg|cmd)\/.*)$/.exec(url)?.[1];
}

function ownCategory(path: string, functionName: string): string {
  if (/resource-handler/.test(path) && /^send(Json|Object)$/.test(functionName)) return 'encoding the answer';
  // The audit's steps live in server.ts and resource-handler.ts, by name.
  if (/audit/i.test(functionName)) return 'logging, audit';
  for (const [pattern, category] of OWN_RULES) if (pattern.test(path)) return category;
  return 'request handling (rest of own code)';
}

function runtimeCategory(frame: CallFrame): string {
  const label = `${frame.functionName} ${frame.url}`;
  for (const [pattern, category] of RUNTIME_RULES)
    if (pattern.test(label) || pattern.test(frame.functionName)) return category;
  return 'other runtime (microtasks, natives)';
}

function profileFile(arg: string): string {
  if (!statSync(arg).isDirectory()) return arg;
  const found = readdirSync(arg).filter((n) => n.endsWith('.cpuprofile'));
  const file = found.sort().at(-1);
  if (file === undefined) throw new Error(`no .cpuprofile in ${arg}`);
  return join(arg, file);
}

interface Summary {
  categories: Map<string, number>;
  self: Map<string, number>;
  busy: number;
}

export function summarize(profile: CpuProfile): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const categories = new Map<string, number>();
  const self = new Map<string, number>();
  const add = (m: Map<string, number>, k: string, v: number): void => void m.set(k, (m.get(k) ?? 0) + v);
  let busy = 0;
  profile.samples.forEach((leafId, i) => {
    const micros = profile.timeDeltas[i] ?? 0;
    const leaf = byId.get(leafId);
    if (leaf === undefined) return;
    // A native socket write is where TLS encrypts, whichever own code wrote.
    const socketWrite = leaf.callFrame.url === '' && SOCKET_WRITES.test(leaf.callFrame.functionName);
    let category: string | undefined = socketWrite ? 'TLS (incl. encrypting socket writes)' : undefined;
    for (let id: number | undefined = leafId; id !== undefined && category === undefined; id = parentOf.get(id)) {
      const frame = byId.get(id)?.callFrame;
      const path = frame === undefined ? undefined : ownPath(frame.url);
      if (frame?.url.includes('/prom-client/') === true) category = 'metrics, request limits';
      else if (frame !== undefined && path !== undefined) category = ownCategory(path, frame.functionName);
    }
    category ??= runtimeCategory(leaf.callFrame);
    if (category === 'idle') return;
    busy += micros;
    add(categories, category, micros);
    const { functionName, url } = leaf.callFrame;
    add(self, `${functionName || '(anonymous)'} ${ownPath(url) ?? url}`.trim(), micros);
  });
  return { categories, self, busy };
}

function main(): void {
  const arg = process.argv[2];
  if (arg === undefined) throw new Error('usage: profile-summary DIR-OR-FILE');
  const parsed: unknown = JSON.parse(readFileSync(profileFile(arg), 'utf8'));
  if (!isCpuProfile(parsed)) throw new Error(`${arg} is not a V8 .cpuprofile`);
  const { categories, self, busy } = summarize(parsed);
  const percent = (v: number): string => `${((100 * v) / busy).toFixed(1)} %`;
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort((a, b) => b[1] - a[1]);
  process.stdout.write(
    `busy CPU in the profile: ${(busy / 1e6).toFixed(2)} s\n\n| where | % of busy CPU |\n|---|---|\n`,
  );
  for (const [k, v] of sorted(categories)) process.stdout.write(`| ${k} | ${percent(v)} |\n`);
  process.stdout.write('\ntop functions by self time:\n');
  for (const [k, v] of sorted(self).slice(0, 20)) process.stdout.write(`${percent(v).padStart(8)}  ${k}\n`);
}

main();
