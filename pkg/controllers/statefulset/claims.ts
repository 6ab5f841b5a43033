// A StatefulSet's volumeClaimTemplates: one claim per template and ordinal, named
// `<template>-<set>-<ordinal>`, created before the pod that mounts it and kept when the pod
// goes, unless persistentVolumeClaimRetentionPolicy says Delete: whenDeleted makes the set
// own its claims (the garbage collector removes them with it), whenScaled makes a condemned
// pod own its claims (removed with that pod).

import type { OwnerReference } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type { PersistentVolumeClaim, StatefulSet, Volume } from '../../api/types/index.js';
import type { RestClient } from '../../client/index.js';
import { isAlreadyExists, isNotFound } from '../../errors/index.js';
import { ownerRef, type PodView } from '../pods.js';

const PVCS = RESOURCES.persistentvolumeclaims;
type SetView = Readonly<StatefulSet>;

export function claimName(template: string, set: SetView, ordinal: number): string {
  return `${template}-${set.metadata.name ?? ''}-${ordinal}`;
}

function templateNames(set: SetView): string[] {
  return (set.spec?.volumeClaimTemplates ?? []).flatMap((t) => (t.metadata?.name ? [t.metadata.name] : []));
}

/** The claims of one ordinal, as the controller creates them. */
export function claimsFor(set: SetView, ordinal: number): PersistentVolumeClaim[] {
  const whenDeleted = set.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted ?? 'Retain';
  const selectorLabels = set.spec?.selector.matchLabels ?? {};
  return (set.spec?.volumeClaimTemplates ?? []).flatMap((t) => {
    const template = t.metadata?.name;
    if (!template) return [];
    const owner: OwnerReference[] = whenDeleted === 'Delete' ? [{ ...ownerRef(set), blockOwnerDeletion: true }] : [];
    return [
      {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name: claimName(template, set, ordinal),
          namespace: set.metadata.namespace,
          labels: { ...t.metadata?.labels, ...selectorLabels },
          ...(t.metadata?.annotations ? { annotations: { ...t.metadata.annotations } } : {}),
          ...(owner.length > 0 ? { ownerReferences: owner } : {}),
        },
        spec: structuredClone(t.spec ?? {}),
      },
    ];
  });
}

/**
 * The pod's volumes: the template's, with one claim volume per claim template (a template
 * volume of the same name is replaced, as Kubernetes does).
 */
export function podVolumesWithClaims(set: SetView, ordinal: number, volumes: readonly Volume[]): Volume[] {
  const names = templateNames(set);
  const kept = volumes.filter((v) => !names.includes(v.name));
  return [
    ...kept,
    ...names.map((n) => ({ name: n, persistentVolumeClaim: { claimName: claimName(n, set, ordinal) } })),
  ];
}

/** Creates the ordinal's missing claims (an existing claim is reused, whatever it holds). */
export async function ensureClaims(client: RestClient, set: SetView, ordinal: number): Promise<void> {
  for (const claim of claimsFor(set, ordinal)) {
    try {
      await client.create(PVCS, claim, { namespace: claim.metadata.namespace });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

/** whenScaled: Delete: the condemned pod owns its claims, so they go with it. */
export async function releaseClaimsOnScaleDown(client: RestClient, set: SetView, pod: PodView): Promise<void> {
  if ((set.spec?.persistentVolumeClaimRetentionPolicy?.whenScaled ?? 'Retain') !== 'Delete') return;
  const ordinal = Number((pod.metadata.name ?? '').slice((set.metadata.name ?? '').length + 1));
  if (!Number.isInteger(ordinal) || ordinal < 0) return;
  const podRef: OwnerReference = {
    apiVersion: 'v1',
    kind: 'Pod',
    name: pod.metadata.name ?? '',
    uid: pod.metadata.uid ?? '',
    blockOwnerDeletion: false,
  };
  for (const name of templateNames(set)) {
    try {
      const claim = await client.get(PVCS, claimName(name, set, ordinal), { namespace: set.metadata.namespace });
      const refs = claim.metadata.ownerReferences ?? [];
      if (refs.some((r) => r.uid === podRef.uid)) continue;
      await client.update(PVCS, { ...claim, metadata: { ...claim.metadata, ownerReferences: [...refs, podRef] } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
