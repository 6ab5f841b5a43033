// kubectl describe for ServiceAccount, Endpoints and CronJob.

import type { CronJob, Endpoints, Event, Secret, ServiceAccount } from '../../api/types/index.js';
import { boolText, printAnnotations, printEvents, printLabels, rfc1123z, selectorString } from './common.js';
import { printPodTemplate } from './pod.js';
import { LEVEL_0, LEVEL_1, LEVEL_2, PrefixWriter } from './prefix-writer.js';

const SA_TOKEN = 'kubernetes.io/service-account-token';

export function describeServiceAccount(
  sa: ServiceAccount,
  related: { events: readonly Event[] | undefined; secrets: readonly Secret[] },
  now: Date,
): string {
  const w = new PrefixWriter();
  w.write(LEVEL_0, `Name:\t${sa.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${sa.metadata.namespace ?? ''}\n`);
  printLabels(w, 'Labels', sa.metadata.labels);
  printAnnotations(w, 'Annotations', sa.metadata.annotations);
  const tokens = related.secrets
    .filter(
      (s) => s.type === SA_TOKEN && s.metadata.annotations?.['kubernetes.io/service-account.name'] === sa.metadata.name,
    )
    .map((s) => s.metadata.name ?? '');
  // A referenced Secret that does not exist is marked, as kubectl does.
  const existing = new Set(related.secrets.map((s) => s.metadata.name));
  const marked = (name: string): string => (existing.has(name) ? name : `${name} (not found)`);
  // kubectl 1.32 lists these three, in this (sorted) order, continuation lines under a blank header.
  const sections: [string, string[]][] = [
    ['Image pull secrets:', (sa.imagePullSecrets ?? []).map((s) => marked(s.name ?? ''))],
    ['Mountable secrets:', (sa.secrets ?? []).map((s) => marked(s.name ?? ''))],
    ['Tokens:', tokens],
  ];
  const blank = ' '.repeat('Image pull secrets:'.length);
  for (const [header, names] of sections) {
    if (names.length === 0) w.write(LEVEL_0, `${header}\t<none>\n`);
    else names.forEach((name, i) => w.write(LEVEL_0, `${i === 0 ? header : blank}\t${name}\n`));
  }
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}

export function describeEndpoints(ep: Endpoints, related: { events: readonly Event[] | undefined }, now: Date): string {
  const w = new PrefixWriter();
  w.write(LEVEL_0, `Name:\t${ep.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${ep.metadata.namespace ?? ''}\n`);
  printLabels(w, 'Labels', ep.metadata.labels);
  printAnnotations(w, 'Annotations', ep.metadata.annotations);
  w.write(LEVEL_0, 'Subsets:\n');
  for (const subset of ep.subsets ?? []) {
    const ready = (subset.addresses ?? []).map((a) => a.ip).join(',');
    const notReady = (subset.notReadyAddresses ?? []).map((a) => a.ip).join(',');
    w.write(LEVEL_1, `Addresses:\t${ready || '<none>'}\n`);
    w.write(LEVEL_1, `NotReadyAddresses:\t${notReady || '<none>'}\n`);
    if ((subset.ports ?? []).length > 0) {
      w.write(LEVEL_1, 'Ports:\n');
      w.write(LEVEL_2, 'Name\tPort\tProtocol\n');
      w.write(LEVEL_2, '----\t----\t--------\n');
      for (const p of subset.ports ?? [])
        w.write(LEVEL_2, `${p.name || '<unset>'}\t${p.port}\t${p.protocol ?? 'TCP'}\n`);
    }
    w.write(LEVEL_0, '\n');
  }
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}

export function describeCronJob(cj: CronJob, related: { events: readonly Event[] | undefined }, now: Date): string {
  const w = new PrefixWriter();
  const spec = cj.spec;
  const unset = (v: number | string | undefined, suffix = ''): string =>
    v === undefined ? '<unset>' : `${v}${suffix}`;
  w.write(LEVEL_0, `Name:\t${cj.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${cj.metadata.namespace ?? ''}\n`);
  printLabels(w, 'Labels', cj.metadata.labels);
  printAnnotations(w, 'Annotations', cj.metadata.annotations);
  w.write(LEVEL_0, `Schedule:\t${spec?.schedule ?? ''}\n`);
  w.write(LEVEL_0, `Concurrency Policy:\t${spec?.concurrencyPolicy ?? ''}\n`);
  w.write(LEVEL_0, `Suspend:\t${boolText(spec?.suspend)}\n`);
  if (spec?.timeZone !== undefined) w.write(LEVEL_0, `Time Zone:\t${spec.timeZone}\n`);
  w.write(LEVEL_0, `Successful Job History Limit:\t${unset(spec?.successfulJobsHistoryLimit)}\n`);
  w.write(LEVEL_0, `Failed Job History Limit:\t${unset(spec?.failedJobsHistoryLimit)}\n`);
  w.write(LEVEL_0, `Starting Deadline Seconds:\t${unset(spec?.startingDeadlineSeconds, 's')}\n`);
  const job = spec?.jobTemplate.spec;
  w.write(LEVEL_0, `Selector:\t${job?.selector === undefined ? '<unset>' : selectorString(job.selector)}\n`);
  w.write(LEVEL_0, `Parallelism:\t${unset(job?.parallelism)}\n`);
  w.write(LEVEL_0, `Completions:\t${unset(job?.completions)}\n`);
  if (job?.activeDeadlineSeconds !== undefined)
    w.write(LEVEL_0, `Active Deadline Seconds:\t${job.activeDeadlineSeconds}s\n`);
  printPodTemplate(w, job?.template);
  const last = cj.status?.lastScheduleTime;
  w.write(LEVEL_0, `Last Schedule Time:\t${last ? rfc1123z(last) : '<unset>'}\n`);
  const active = (cj.status?.active ?? []).map((j) => j.name ?? '');
  w.write(LEVEL_0, `Active Jobs:\t${active.length === 0 ? '<none>' : active.join(', ')}\n`);
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}
