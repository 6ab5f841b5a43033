// Apply a YAML manifest (one or more documents) as `kubectl apply --server-side` does: each
// object is PATCHed as application/apply-patch+yaml with fieldManager=coxswain-dashboard, to
// the path discovery gives for its apiVersion and kind. 201 means created, 200 configured.

import { useState } from 'preact/hooks';
import { parseAllDocuments } from 'yaml';
import { isRecord, request } from './api.js';

interface Target {
  plural: string;
  namespaced: boolean;
}

/** The resource of an apiVersion's kind, from its discovery document (cached for the page). */
const discovered = new Map<string, Promise<unknown>>();
async function resourceOf(apiVersion: string, kind: string): Promise<{ base: string } & Target> {
  const base = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  let list = discovered.get(base);
  if (list === undefined) {
    list = request(base);
    discovered.set(base, list);
  }
  const doc = await list.catch((err: unknown) => {
    discovered.delete(base);
    throw err;
  });
  const resources = isRecord(doc) && Array.isArray(doc['resources']) ? doc['resources'] : [];
  for (const r of resources) {
    if (!isRecord(r) || r['kind'] !== kind || typeof r['name'] !== 'string' || r['name'].includes('/')) continue;
    return { base, plural: r['name'], namespaced: r['namespaced'] === true };
  }
  throw new Error(`the server does not serve ${kind} in ${apiVersion}`);
}

async function applyOne(doc: unknown, namespace: string): Promise<string> {
  if (!isRecord(doc) || !isRecord(doc['metadata'])) throw new Error('not a Kubernetes object (no metadata)');
  const { apiVersion, kind } = doc;
  const name = doc['metadata']['name'];
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || typeof name !== 'string')
    throw new Error('an object needs apiVersion, kind and metadata.name');
  const target = await resourceOf(apiVersion, kind);
  const ns = typeof doc['metadata']['namespace'] === 'string' ? doc['metadata']['namespace'] : namespace || 'default';
  const scope = target.namespaced ? `/namespaces/${encodeURIComponent(ns)}` : '';
  const path = `${target.base}${scope}/${target.plural}/${encodeURIComponent(name)}?fieldManager=coxswain-dashboard&force=true`;
  const before = await request(path.split('?')[0] ?? path).then(
    () => true,
    () => false,
  );
  await request(path, { method: 'PATCH', contentType: 'application/apply-patch+yaml', body: JSON.stringify(doc) });
  const group = apiVersion.includes('/') ? `.${apiVersion.split('/')[0] ?? ''}` : '';
  return `${kind.toLowerCase()}${group}/${name} ${before ? 'configured' : 'created'}`;
}

export function ApplyPage(props: { namespace: string }): preact.JSX.Element {
  const [text, setText] = useState('');
  const [results, setResults] = useState<{ ok: boolean; line: string }[]>([]);
  const [busy, setBusy] = useState(false);
  const apply = async (): Promise<void> => {
    setBusy(true);
    const out: { ok: boolean; line: string }[] = [];
    const docs = parseAllDocuments(text);
    const list = Array.isArray(docs) ? docs : [docs];
    for (const [i, d] of list.entries()) {
      try {
        if (d.errors.length > 0) throw new Error(d.errors[0]?.message ?? 'invalid YAML');
        const obj: unknown = d.toJS({ maxAliasCount: 100 });
        if (obj === null || obj === undefined) continue;
        out.push({ ok: true, line: await applyOne(obj, props.namespace) });
      } catch (err) {
        out.push({ ok: false, line: `document ${i + 1}: ${err instanceof Error ? err.message : String(err)}` });
      }
    }
    setResults(out);
    setBusy(false);
  };
  return (
    <section class="section" data-testid="apply">
      <h2>Apply a manifest</h2>
      <p class="muted">
        Server-side apply as <code>coxswain-dashboard</code>; objects without a namespace go to{' '}
        {props.namespace || 'default'}.
      </p>
      <textarea
        rows={18}
        spellcheck={false}
        value={text}
        onInput={(e) => setText(e.currentTarget.value)}
        placeholder="apiVersion: apps/v1&#10;kind: Deployment&#10;…"
      />
      <p>
        <button disabled={busy || text.trim() === ''} onClick={() => void apply()}>
          Apply
        </button>
      </p>
      <ul data-testid="apply-results">
        {results.map((r) => (
          <li class={r.ok ? '' : 'error'}>{r.line}</li>
        ))}
      </ul>
    </section>
  );
}
