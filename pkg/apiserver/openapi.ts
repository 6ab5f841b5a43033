// A minimal OpenAPI v3 document: one PATCH operation per served kind that declares the
// `fieldValidation` query parameter. That is what kubectl's default `--validate=strict`
// looks for before trusting the server to validate (KUBECTL-WIRE.md §4); the server then
// honours fieldValidation itself. Schemas are left empty on purpose: kubectl falls back to
// its compiled-in types for strategic merge patches.

import { createHash } from 'node:crypto';
import { groupVersions, resourcesIn, resourcePath } from '../api/registry.js';

function gvPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

function gvDocument(group: string, version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  for (const r of resourcesIn(group, version)) {
    const path = r.namespaced
      ? resourcePath(r, { namespace: '{namespace}', name: '{name}' }).replace(/%7B/g, '{').replace(/%7D/g, '}')
      : resourcePath(r, { name: '{name}' }).replace(/%7B/g, '{').replace(/%7D/g, '}');
    paths[path] = {
      patch: {
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
        parameters: [
          { name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'fieldManager', in: 'query', schema: { type: 'string', uniqueItems: true } },
          { name: 'dryRun', in: 'query', schema: { type: 'string', uniqueItems: true } },
        ],
        responses: { '200': { description: 'OK' } },
      },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.4' },
    paths,
    components: { schemas: {} },
  };
}

export interface OpenApiV3 {
  index: Record<string, unknown>;
  documents: Map<string, { body: string; hash: string }>;
}

/** The v3 root index and per-group-version documents, built from the registry. */
export function buildOpenApiV3(): OpenApiV3 {
  const documents = new Map<string, { body: string; hash: string }>();
  const paths: Record<string, unknown> = {};
  for (const gv of groupVersions()) {
    const key = gvPath(gv.group, gv.version);
    const body = JSON.stringify(gvDocument(gv.group, gv.version));
    const hash = createHash('sha512').update(body).digest('hex').slice(0, 128).toUpperCase();
    documents.set(key, { body, hash });
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { index: { paths }, documents };
}
