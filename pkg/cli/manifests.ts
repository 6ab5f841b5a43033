// Reading manifests for -f: a file, a folder (its .yaml/.yml/.json files, sorted), or `-`
// (stdin); multi-document YAML. Everything is parsed and checked before anything is sent,
// and an error names the file, the document and the line.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { isObject, type KubeObject } from '../api/meta.js';
import { findByKind, type ResourceInfo } from '../api/registry.js';
import { checkTypes } from '../api/schema.js';
import { errorMessage } from '../errors/index.js';

export interface Manifest {
  source: string;
  /** 1-based document number within the source. */
  document: number;
  /** 1-based line where the document starts. */
  line: number;
  object: KubeObject;
  resource: ResourceInfo;
}

/** Where in the input a manifest document sits (document and line are 1-based). */
export interface DocumentPlace {
  source: string;
  document: number;
  line: number;
}

export class ManifestError extends Error {
  constructor(place: DocumentPlace, message: string) {
    const { source, document, line } = place;
    super(`error: ${source}: document ${document}, line ${line}: ${message}`);
    this.name = 'ManifestError';
  }
}

function listSources(path: string): string[] {
  if (path === '-') return ['-'];
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`error: the path "${path}" does not exist`);
  }
  if (!st.isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => /\.(ya?ml|json)$/.test(f))
    .sort()
    .map((f) => join(path, f));
}

/** Splits multi-document YAML, remembering where each document starts. */
function splitDocuments(text: string): { text: string; line: number }[] {
  const lines = text.split('\n');
  const docs: { text: string; line: number }[] = [];
  let start = 0;
  for (let i = 0; i <= lines.length; i++) {
    if (i === lines.length || /^---(\s.*)?$/.test(lines[i] ?? '')) {
      const body = lines.slice(start, i).join('\n');
      if (body.trim() !== '' && !/^\s*(#.*)?(\n\s*(#.*)?)*$/.test(body)) docs.push({ text: body, line: start + 1 });
      start = i + 1;
    }
  }
  return docs;
}

function parseSource(source: string, text: string): Manifest[] {
  const out: Manifest[] = [];
  const docs = splitDocuments(text);
  docs.forEach((doc, i) => {
    const number = i + 1;
    let value: unknown;
    try {
      value = yaml.load(doc.text, { schema: yaml.JSON_SCHEMA, filename: source });
    } catch (err) {
      // js-yaml may leave mark and reason unset although its types say otherwise.
      if (err instanceof yaml.YAMLException)
        throw new ManifestError(
          { source, document: number, line: doc.line + (err.mark?.line ?? 0) },
          `invalid YAML: ${err.reason ?? err.message}`,
        );
      throw new ManifestError({ source, document: number, line: doc.line }, `invalid YAML: ${errorMessage(err)}`);
    }
    if (value === null || value === undefined) return;
    // A `kind: List` holds several objects.
    const objects =
      isObject(value) && value['kind'] === 'List' && Array.isArray(value['items']) ? value['items'] : [value];
    for (const obj of objects) out.push(checkManifest({ source, document: number, line: doc.line }, obj));
  });
  return out;
}

function checkManifest(place: DocumentPlace, value: unknown): Manifest {
  const { source, document, line } = place;
  const fail = (message: string): never => {
    throw new ManifestError(place, message);
  };
  if (!isObject(value)) return fail('a manifest must be a YAML mapping (an object)');
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string' || apiVersion === '') return fail('apiVersion not set');
  if (typeof kind !== 'string' || kind === '') return fail('kind not set');
  const resource = findByKind(apiVersion, kind);
  if (resource === undefined) return fail(`no matches for kind "${kind}" in version "${apiVersion}"`);
  if (!isObject(metadata)) return fail('metadata not set');
  const name = metadata['name'];
  if ((typeof name !== 'string' || name === '') && typeof metadata['generateName'] !== 'string')
    return fail('metadata.name not set');
  // The metadata's fields are type-checked with the rest of the object just below.
  const obj: KubeObject = { ...value, apiVersion, kind, metadata };
  const causes = checkTypes(obj);
  if (causes.length > 0) {
    return fail(causes.map((c) => (c.field ? `${c.field}: ${c.message ?? ''}` : (c.message ?? ''))).join('; '));
  }
  return { source, document, line, object: obj, resource };
}

/** All manifests of every -f argument, parsed and checked; throws on the first error. */
export function loadManifests(paths: string[], readStdin: () => string): Manifest[] {
  const out: Manifest[] = [];
  for (const path of paths) {
    for (const source of listSources(path)) {
      const text = source === '-' ? readStdin() : readFileSync(source, 'utf8');
      out.push(...parseSource(source === '-' ? '<stdin>' : source, text));
    }
  }
  return out;
}
