// coxctl apply / create: client-side apply as kubectl does it. A new object is created with
// the last-applied-configuration annotation; an existing one gets a three-way strategic
// merge patch computed from (last applied, new manifest, live object); an empty patch means
// `unchanged`. Everything is parsed and checked before the first request.

import type { KubeObject } from '../../api/meta.js';
import { canonicalJson, deepCopy } from '../../api/meta.js';
import { createThreeWayStrategicMergePatch } from '../../api/patch/index.js';
import { qualifiedKindName } from '../../api/registry.js';
import { isNotFound } from '../../errors/index.js';
import type { CliContext } from '../context.js';
import { loadManifests, type Manifest } from '../manifests.js';

export const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

interface ApplyFlags {
  filename: string[];
  serverSide?: boolean;
  forceConflicts?: boolean;
  fieldManager?: string;
}

function namespaceFor(ctx: CliContext, m: Manifest): string | undefined {
  if (!m.resource.namespaced) return undefined;
  const explicit = ctx.explicitNamespace();
  const inManifest = m.object.metadata.namespace;
  if (explicit !== undefined && inManifest !== undefined && explicit !== inManifest) {
    throw new Error(
      `error: the namespace from the provided object "${inManifest}" does not match the namespace "${explicit}". You must pass '--namespace=${inManifest}' to perform this operation.`,
    );
  }
  return inManifest ?? ctx.namespace();
}

function label(m: Manifest, name: string): string {
  return `${qualifiedKindName(m.resource)}/${name}`;
}

/**
 * The manifest as kubectl records it in the annotation, byte for byte, so kubectl and coxctl
 * can apply the same files in turn: keys sorted (Go's encoding of maps), `annotations` kept
 * even when only the annotation itself was there, and a final newline.
 */
function withLastApplied(obj: KubeObject, namespace: string | undefined): { object: KubeObject; lastApplied: string } {
  const recorded = deepCopy(obj);
  if (namespace !== undefined) recorded.metadata.namespace = namespace;
  const annotations = { ...(recorded.metadata.annotations ?? {}) };
  Reflect.deleteProperty(annotations, LAST_APPLIED);
  recorded.metadata.annotations = annotations;
  const lastApplied = canonicalJson(recorded) + '\n';
  const object = deepCopy(recorded);
  object.metadata.annotations = { ...(object.metadata.annotations ?? {}), [LAST_APPLIED]: lastApplied };
  return { object, lastApplied };
}

export async function runApply(ctx: CliContext, flags: ApplyFlags): Promise<void> {
  const manifests = loadManifests(flags.filename, ctx.io.readStdin);
  const client = ctx.client();
  for (const m of manifests) {
    const namespace = namespaceFor(ctx, m);
    const name = m.object.metadata.name ?? '';
    if (flags.serverSide) {
      const body = deepCopy(m.object);
      if (namespace !== undefined) body.metadata.namespace = namespace;
      await client.patch(m.resource, name, {
        type: 'apply',
        body,
        ...(namespace !== undefined ? { namespace } : {}),
        fieldManager: flags.fieldManager ?? 'coxctl',
        force: flags.forceConflicts === true,
      });
      ctx.out(`${label(m, name)} serverside-applied`);
      continue;
    }
    const { object, lastApplied } = withLastApplied(m.object, namespace);
    let live: KubeObject | undefined;
    try {
      live = await client.get(m.resource, name, { namespace });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (live === undefined) {
      await client.create(m.resource, object, {
        namespace,
        fieldManager: 'kubectl-client-side-apply',
        fieldValidation: 'Strict',
      });
      ctx.out(`${label(m, name)} created`);
      continue;
    }
    const previous = live.metadata.annotations?.[LAST_APPLIED];
    const original: unknown = previous !== undefined ? JSON.parse(previous) : {};
    const patch = createThreeWayStrategicMergePatch(
      { original, modified: object, current: live },
      {
        group: m.resource.group,
        kind: m.resource.kind,
      },
    );
    if (Object.keys(patch).length === 0) {
      ctx.out(`${label(m, name)} unchanged`);
      continue;
    }
    void lastApplied;
    await client.patch(m.resource, name, {
      type: 'strategic',
      body: patch,
      namespace,
      fieldManager: 'kubectl-client-side-apply',
      fieldValidation: 'Strict',
    });
    ctx.out(`${label(m, name)} configured`);
  }
}

export async function runCreate(ctx: CliContext, flags: { filename: string[] }): Promise<void> {
  const manifests = loadManifests(flags.filename, ctx.io.readStdin);
  const client = ctx.client();
  for (const m of manifests) {
    const namespace = namespaceFor(ctx, m);
    const created = await client.create(m.resource, m.object, {
      namespace,
      fieldManager: 'kubectl-create',
      fieldValidation: 'Strict',
    });
    ctx.out(`${label(m, created.metadata.name ?? '')} created`);
  }
}
