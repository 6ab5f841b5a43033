// ControllerRevisions of DaemonSets and StatefulSets (Kubernetes' controller history): one
// revision per distinct pod template, named <set>-<hash>, numbered in the order templates were
// last used. Its data is the patch `kubectl rollout undo` sends back to restore the template:
// {"spec":{"template":{…,"$patch":"replace"}}}. Going back to an older template renumbers its
// revision as the newest instead of adding a copy; revisions beyond revisionHistoryLimit that
// no pod runs are deleted, oldest first.

import { isDeepStrictEqual } from 'node:util';
import { canonicalJson, controllerOf, isObject, type KubeObject } from '../api/meta.js';
import { RESOURCES } from '../api/registry.js';
import type { ControllerRevision, PodTemplateSpec } from '../api/types/index.js';
import type { Informer, RestClient } from '../client/index.js';
import { isAlreadyExists, isConflict, isNotFound } from '../errors/index.js';
import { ownerRef } from './pods.js';
import { normalizedTemplate } from './rollout.js';

const REVISIONS = RESOURCES.controllerrevisions;
export const REVISION_HASH_LABEL = 'controller-revision-hash';
/** What Kubernetes' rand.SafeEncodeString maps digits to: no vowels, no look-alikes. */
const SAFE_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';

/** The owner's side: a DaemonSet or StatefulSet. */
export interface RevisionOwner extends KubeObject {
  spec?: { template: PodTemplateSpec; revisionHistoryLimit?: number };
  status?: { collisionCount?: number };
}

/** The data of a revision: the patch that puts this template back. */
export function revisionData(template: Readonly<PodTemplateSpec> | undefined): Record<string, unknown> {
  return { spec: { template: { ...normalizedTemplate(template ?? {}), $patch: 'replace' } } };
}

/** The pod template a revision's data restores (undefined for data some other writer made). */
export function templateOf(revision: Readonly<ControllerRevision>): PodTemplateSpec | undefined {
  const data = revision.data;
  const spec = isObject(data) ? data['spec'] : undefined;
  const template = isObject(spec) ? spec['template'] : undefined;
  if (!isObject(template)) return undefined;
  const copy: Record<string, unknown> = structuredClone(template);
  delete copy['$patch'];
  return copy;
}

/** Kubernetes' revision hash: FNV-1a (32 bit) of the data and the collision count, its decimal digits safe-encoded. */
export function revisionHash(data: unknown, collisionCount = 0): string {
  let hash = 0x811c9dc5;
  const bytes = Buffer.from(canonicalJson(data) + (collisionCount > 0 ? String(collisionCount) : ''));
  for (const byte of bytes) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return [...String(hash)].map((d) => SAFE_ALPHABET[Number(d) % SAFE_ALPHABET.length] ?? 'b').join('');
}

/** The revisions `owner` controls, oldest first. */
export function ownedRevisions(
  revisions: Informer<ControllerRevision>,
  owner: Readonly<KubeObject>,
): ControllerRevision[] {
  return revisions
    .byIndex('namespace', owner.metadata.namespace ?? '')
    .filter((r) => controllerOf(r)?.uid === owner.metadata.uid)
    .sort((a, b) => a.revision - b.revision || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

export interface History {
  /** The revision of the owner's current template (created or renumbered as needed). */
  update: ControllerRevision;
  /** Every revision the owner controls, oldest first, `update` included. */
  all: ControllerRevision[];
}

export interface SyncHistoryOptions {
  client: RestClient;
  revisions: Informer<ControllerRevision>;
  /** Revision names still in use (a StatefulSet's current revision, revisions pods run); never pruned. */
  live?: ReadonlySet<string>;
}

/** Makes sure the owner's current template has the newest revision, and prunes old history. */
export async function syncHistory(owner: Readonly<RevisionOwner>, opts: SyncHistoryOptions): Promise<History> {
  const { client, revisions } = opts;
  const namespace = owner.metadata.namespace;
  const all = ownedRevisions(revisions, owner);
  const data = revisionData(owner.spec?.template);
  const newest = all.reduce((max, r) => Math.max(max, r.revision), 0);
  let update = all.find((r) => isDeepStrictEqual(r.data, data));
  if (update !== undefined && update.revision < newest) {
    // An older template came back (rollout undo): its revision becomes the newest.
    update = await client.update(REVISIONS, { ...update, revision: newest + 1 }, { namespace });
  } else if (update === undefined) {
    update = await createRevision(owner, { client, data, number: newest + 1 });
  }
  const kept = [...all.filter((r) => r.metadata.name !== update?.metadata.name), update];
  await pruneHistory(owner, {
    client,
    revisions: kept,
    live: new Set([...(opts.live ?? []), update.metadata.name ?? '']),
  });
  return { update, all: kept.sort((a, b) => a.revision - b.revision) };
}

async function createRevision(
  owner: Readonly<RevisionOwner>,
  what: { client: RestClient; data: Record<string, unknown>; number: number },
): Promise<ControllerRevision> {
  const { client, data, number } = what;
  const hash = revisionHash(data, owner.status?.collisionCount ?? 0);
  const namespace = owner.metadata.namespace;
  const revision: ControllerRevision = {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: `${owner.metadata.name ?? ''}-${hash}`,
      namespace,
      // The template's labels, so `kubectl rollout history` finds it with the set's selector.
      labels: { ...(owner.spec?.template.metadata?.labels ?? {}), [REVISION_HASH_LABEL]: hash },
      ownerReferences: [ownerRef(owner)],
    },
    data,
    revision: number,
  };
  try {
    return await client.create(REVISIONS, revision, { namespace });
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
    // Made by an earlier pass the informer has not shown yet: the same data is the same revision.
    const existing = await client.get(REVISIONS, revision.metadata.name ?? '', { namespace });
    if (controllerOf(existing)?.uid === owner.metadata.uid && isDeepStrictEqual(existing.data, data)) return existing;
    throw err;
  }
}

async function pruneHistory(
  owner: Readonly<RevisionOwner>,
  what: { client: RestClient; revisions: ControllerRevision[]; live: ReadonlySet<string> },
): Promise<void> {
  const limit = Math.max(0, owner.spec?.revisionHistoryLimit ?? 10);
  const old = what.revisions
    .filter((r) => !what.live.has(r.metadata.name ?? ''))
    .sort((a, b) => a.revision - b.revision);
  for (const r of old.slice(0, Math.max(0, old.length - limit))) {
    try {
      await what.client.delete(REVISIONS, r.metadata.name ?? '', {
        namespace: r.metadata.namespace,
        preconditions: { uid: r.metadata.uid ?? '' },
      });
    } catch (err) {
      // Gone already, or replaced by another object of that name: nothing to prune.
      if (!isNotFound(err) && !isConflict(err)) throw err;
    }
  }
}
