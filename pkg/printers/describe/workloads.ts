// kubectl describe for the workload kinds: Deployment, ReplicaSet, StatefulSet, DaemonSet, Job.

import type { KubeObject } from '../../api/meta.js';
import { canonicalQuantity } from '../../api/milli-quantity.js';
import type {
  DaemonSet,
  Deployment,
  Event,
  Job,
  Pod,
  ReplicaSet,
  StatefulSet,
  WorkloadCondition,
} from '../../api/types/index.js';
import { humanDuration } from '../printers.js';
import {
  controllerText,
  formatLabels,
  printAnnotations,
  printEvents,
  printLabels,
  rfc1123z,
  selectorString,
} from './common.js';
import { printPodTemplate } from './pod.js';
import { LEVEL_0, LEVEL_1, PrefixWriter } from './prefix-writer.js';

const REVISION = 'deployment.kubernetes.io/revision';

/** `2 Running / 0 Waiting / 0 Succeeded / 0 Failed` over the pods `owner` controls. */
export function podsStatus(owner: KubeObject, pods: readonly Pod[]): string {
  const count = { Running: 0, Pending: 0, Succeeded: 0, Failed: 0 };
  for (const p of pods) {
    const ref = p.metadata.ownerReferences?.find((o) => o.controller === true);
    if (ref?.uid !== owner.metadata.uid) continue;
    const phase = p.status?.phase;
    if (phase === 'Running' || phase === 'Pending' || phase === 'Succeeded' || phase === 'Failed') count[phase]++;
  }
  return `${count.Running} Running / ${count.Pending} Waiting / ${count.Succeeded} Succeeded / ${count.Failed} Failed`;
}

function header(w: PrefixWriter, obj: KubeObject): void {
  w.write(LEVEL_0, `Name:\t${obj.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${obj.metadata.namespace ?? ''}\n`);
}

function printTypeStatusReason(w: PrefixWriter, conditions: readonly WorkloadCondition[] | undefined): void {
  if (conditions === undefined || conditions.length === 0) return;
  w.write(LEVEL_0, 'Conditions:\n  Type\tStatus\tReason\n');
  w.write(LEVEL_1, '----\t------\t------\n');
  for (const c of conditions) w.write(LEVEL_1, `${c.type} \t${c.status}\t${c.reason ?? ''}\n`);
}

function replicaSetsText(sets: readonly ReplicaSet[]): string {
  const text = sets.map(
    (rs) => `${rs.metadata.name ?? ''} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 0} replicas created)`,
  );
  return text.length === 0 ? '<none>' : text.join(', ');
}

export interface WorkloadRelated {
  events: readonly Event[] | undefined;
  /** ReplicaSets in the namespace (a Deployment's own are picked by owner). */
  replicaSets?: readonly ReplicaSet[];
  /** Pods in the namespace (a controller's own are picked by owner). */
  pods?: readonly Pod[];
}

export function describeDeployment(d: Deployment, related: WorkloadRelated, now: Date): string {
  const w = new PrefixWriter();
  const spec = d.spec;
  const st = d.status ?? {};
  header(w, d);
  w.write(LEVEL_0, `CreationTimestamp:\t${rfc1123z(d.metadata.creationTimestamp)}\n`);
  printLabels(w, 'Labels', d.metadata.labels);
  printAnnotations(w, 'Annotations', d.metadata.annotations);
  w.write(LEVEL_0, `Selector:\t${selectorString(spec?.selector)}\n`);
  w.write(
    LEVEL_0,
    `Replicas:\t${spec?.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | ${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable\n`,
  );
  w.write(LEVEL_0, `StrategyType:\t${spec?.strategy?.type ?? ''}\n`);
  w.write(LEVEL_0, `MinReadySeconds:\t${spec?.minReadySeconds ?? 0}\n`);
  const ru = spec?.strategy?.rollingUpdate;
  if (ru !== undefined)
    w.write(
      LEVEL_0,
      `RollingUpdateStrategy:\t${String(ru.maxUnavailable ?? '25%')} max unavailable, ${String(ru.maxSurge ?? '25%')} max surge\n`,
    );
  printPodTemplate(w, spec?.template);
  printTypeStatusReason(w, st.conditions);
  const owned = (related.replicaSets ?? []).filter(
    (rs) => rs.metadata.ownerReferences?.some((o) => o.controller === true && o.uid === d.metadata.uid) === true,
  );
  if (owned.length > 0) {
    const revision = d.metadata.annotations?.[REVISION];
    const isNew = (rs: ReplicaSet): boolean =>
      revision !== undefined && rs.metadata.annotations?.[REVISION] === revision;
    w.write(LEVEL_0, `OldReplicaSets:\t${replicaSetsText(owned.filter((rs) => !isNew(rs)))}\n`);
    w.write(LEVEL_0, `NewReplicaSet:\t${replicaSetsText(owned.filter(isNew))}\n`);
  }
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}

export function describeReplicaSet(rs: ReplicaSet, related: WorkloadRelated, now: Date): string {
  const w = new PrefixWriter();
  header(w, rs);
  w.write(LEVEL_0, `Selector:\t${selectorString(rs.spec?.selector, '<none>')}\n`);
  printLabels(w, 'Labels', rs.metadata.labels);
  printAnnotations(w, 'Annotations', rs.metadata.annotations);
  const controller = controllerText(rs);
  if (controller !== undefined) w.write(LEVEL_0, `Controlled By:\t${controller}\n`);
  w.write(LEVEL_0, `Replicas:\t${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 1} desired\n`);
  w.write(LEVEL_0, `Pods Status:\t${podsStatus(rs, related.pods ?? [])}\n`);
  printPodTemplate(w, rs.spec?.template);
  printTypeStatusReason(w, rs.status?.conditions);
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}

export function describeStatefulSet(ss: StatefulSet, related: WorkloadRelated, now: Date): string {
  const w = new PrefixWriter();
  const spec = ss.spec;
  header(w, ss);
  w.write(LEVEL_0, `CreationTimestamp:\t${rfc1123z(ss.metadata.creationTimestamp)}\n`);
  w.write(LEVEL_0, `Selector:\t${selectorString(spec?.selector)}\n`);
  printLabels(w, 'Labels', ss.metadata.labels);
  printAnnotations(w, 'Annotations', ss.metadata.annotations);
  w.write(LEVEL_0, `Replicas:\t${spec?.replicas ?? 1} desired | ${ss.status?.replicas ?? 0} total\n`);
  w.write(LEVEL_0, `Update Strategy:\t${spec?.updateStrategy?.type ?? ''}\n`);
  const ru = spec?.updateStrategy?.rollingUpdate;
  if (ru?.partition !== undefined) {
    w.write(LEVEL_1, `Partition:\t${ru.partition}\n`);
    if (ru.maxUnavailable !== undefined) w.write(LEVEL_1, `MaxUnavailable:\t${String(ru.maxUnavailable)}\n`);
  }
  w.write(LEVEL_0, `Pods Status:\t${podsStatus(ss, related.pods ?? [])}\n`);
  printPodTemplate(w, spec?.template);
  const claims = spec?.volumeClaimTemplates ?? [];
  if (claims.length === 0) w.write(LEVEL_0, 'Volume Claims:\t<none>\n');
  else {
    w.write(LEVEL_0, 'Volume Claims:\n');
    for (const c of claims) {
      w.write(LEVEL_1, `Name:\t${c.metadata?.name ?? ''}\n`);
      w.write(LEVEL_1, `StorageClass:\t${c.spec?.storageClassName ?? ''}\n`);
      printLabels(w, { title: 'Labels', indent: '  ' }, c.metadata?.labels);
      printLabels(w, { title: 'Annotations', indent: '  ' }, c.metadata?.annotations);
      const storage = c.spec?.resources?.requests?.['storage'];
      w.write(LEVEL_1, `Capacity:\t${storage === undefined ? '<default>' : canonicalQuantity(storage)}\n`);
      w.write(LEVEL_1, `Access Modes:\t[${(c.spec?.accessModes ?? []).join(' ')}]\n`);
    }
  }
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}

export function describeDaemonSet(ds: DaemonSet, related: WorkloadRelated, now: Date): string {
  const w = new PrefixWriter();
  const st = ds.status;
  // kubectl 1.32 prints no Namespace line for a DaemonSet.
  w.write(LEVEL_0, `Name:\t${ds.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Selector:\t${selectorString(ds.spec?.selector)}\n`);
  w.write(LEVEL_0, `Node-Selector:\t${formatLabels(ds.spec?.template.spec?.nodeSelector)}\n`);
  printLabels(w, 'Labels', ds.metadata.labels);
  printAnnotations(w, 'Annotations', ds.metadata.annotations);
  w.write(LEVEL_0, `Desired Number of Nodes Scheduled: ${st?.desiredNumberScheduled ?? 0}\n`);
  w.write(LEVEL_0, `Current Number of Nodes Scheduled: ${st?.currentNumberScheduled ?? 0}\n`);
  w.write(LEVEL_0, `Number of Nodes Scheduled with Up-to-date Pods: ${st?.updatedNumberScheduled ?? 0}\n`);
  w.write(LEVEL_0, `Number of Nodes Scheduled with Available Pods: ${st?.numberAvailable ?? 0}\n`);
  w.write(LEVEL_0, `Number of Nodes Misscheduled: ${st?.numberMisscheduled ?? 0}\n`);
  w.write(LEVEL_0, `Pods Status:\t${podsStatus(ds, related.pods ?? [])}\n`);
  printPodTemplate(w, ds.spec?.template);
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}

export function describeJob(job: Job, related: WorkloadRelated, now: Date): string {
  const w = new PrefixWriter();
  const spec = job.spec;
  const st = job.status ?? {};
  header(w, job);
  w.write(LEVEL_0, `Selector:\t${selectorString(spec?.selector)}\n`);
  printLabels(w, 'Labels', job.metadata.labels);
  printAnnotations(w, 'Annotations', job.metadata.annotations);
  const controller = controllerText(job);
  if (controller !== undefined) w.write(LEVEL_0, `Controlled By:\t${controller}\n`);
  if (spec?.parallelism !== undefined) w.write(LEVEL_0, `Parallelism:\t${spec.parallelism}\n`);
  w.write(LEVEL_0, `Completions:\t${spec?.completions ?? '<unset>'}\n`);
  if (spec?.completionMode !== undefined) w.write(LEVEL_0, `Completion Mode:\t${spec.completionMode}\n`);
  if (spec?.suspend !== undefined) w.write(LEVEL_0, `Suspend:\t${spec.suspend}\n`);
  if (spec?.backoffLimit !== undefined) w.write(LEVEL_0, `Backoff Limit:\t${spec.backoffLimit}\n`);
  if (spec?.ttlSecondsAfterFinished !== undefined)
    w.write(LEVEL_0, `TTL Seconds After Finished:\t${spec.ttlSecondsAfterFinished}\n`);
  if (st.startTime) w.write(LEVEL_0, `Start Time:\t${rfc1123z(st.startTime)}\n`);
  if (st.completionTime) w.write(LEVEL_0, `Completed At:\t${rfc1123z(st.completionTime)}\n`);
  if (st.startTime && st.completionTime)
    w.write(LEVEL_0, `Duration:\t${humanDuration(Date.parse(st.completionTime) - Date.parse(st.startTime))}\n`);
  if (spec?.activeDeadlineSeconds !== undefined)
    w.write(LEVEL_0, `Active Deadline Seconds:\t${spec.activeDeadlineSeconds}s\n`);
  const counts = `${st.succeeded ?? 0} Succeeded / ${st.failed ?? 0} Failed`;
  w.write(
    LEVEL_0,
    st.ready === undefined
      ? `Pods Statuses:\t${st.active ?? 0} Active / ${counts}\n`
      : `Pods Statuses:\t${st.active ?? 0} Active (${st.ready} Ready) / ${counts}\n`,
  );
  if (spec?.completionMode === 'Indexed')
    w.write(LEVEL_0, `Completed Indexes:\t${capIndexes(st.completedIndexes ?? '')}\n`);
  printPodTemplate(w, spec?.template);
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}

/** Completed indexes cut after the first comma past 50 characters, as kubectl. */
function capIndexes(indexes: string): string {
  if (indexes === '') return '<none>';
  const cut = indexes.indexOf(',', 50);
  return cut === -1 ? indexes : indexes.slice(0, cut + 1) + '...';
}
