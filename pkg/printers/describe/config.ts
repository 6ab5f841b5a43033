// kubectl describe for ConfigMap (every value in full), Secret (sizes only) and Namespace
// (status, quotas, limit ranges).

import { canonicalQuantity } from '../../api/milli-quantity.js';
import type { ConfigMap, Event, LimitRange, Namespace, ResourceQuota, Secret } from '../../api/types/index.js';
import { printAnnotations, printEvents, printLabels, rfc1123z } from './common.js';
import { LEVEL_0, LEVEL_1, PrefixWriter } from './prefix-writer.js';

function decodedLength(base64: string): number {
  return Buffer.from(base64, 'base64').length;
}

export function describeConfigMap(cm: ConfigMap, related: { events: readonly Event[] | undefined }, now: Date): string {
  const w = new PrefixWriter();
  w.write(LEVEL_0, `Name:\t${cm.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${cm.metadata.namespace ?? ''}\n`);
  printLabels(w, 'Labels', cm.metadata.labels);
  printAnnotations(w, 'Annotations', cm.metadata.annotations);
  w.write(LEVEL_0, '\nData\n====\n');
  for (const key of Object.keys(cm.data ?? {}).sort()) {
    w.write(LEVEL_0, `${key}:\n----\n`);
    w.write(LEVEL_0, `${cm.data?.[key] ?? ''}\n`);
    w.write(LEVEL_0, '\n');
  }
  w.write(LEVEL_0, '\nBinaryData\n====\n');
  for (const key of Object.keys(cm.binaryData ?? {}).sort())
    w.write(LEVEL_0, `${key}: ${decodedLength(cm.binaryData?.[key] ?? '')} bytes\n`);
  w.write(LEVEL_0, '\n');
  if (related.events !== undefined) printEvents(w, related.events, now);
  return w.text();
}

export function describeSecret(secret: Secret): string {
  const w = new PrefixWriter();
  w.write(LEVEL_0, `Name:\t${secret.metadata.name ?? ''}\n`);
  w.write(LEVEL_0, `Namespace:\t${secret.metadata.namespace ?? ''}\n`);
  printLabels(w, 'Labels', secret.metadata.labels);
  printAnnotations(w, 'Annotations', secret.metadata.annotations);
  w.write(LEVEL_0, `\nType:\t${secret.type ?? ''}\n`);
  w.write(LEVEL_0, '\nData\n====\n');
  for (const key of Object.keys(secret.data ?? {}).sort()) {
    const value = secret.data?.[key] ?? '';
    // A service account token is the one value kubectl shows.
    if (key === 'token' && secret.type === 'kubernetes.io/service-account-token')
      w.write(LEVEL_0, `${key}:\t${Buffer.from(value, 'base64').toString('utf8')}\n`);
    else w.write(LEVEL_0, `${key}:\t${decodedLength(value)} bytes\n`);
  }
  return w.text();
}

function printQuotas(w: PrefixWriter, quotas: readonly ResourceQuota[]): void {
  if (quotas.length === 0) {
    w.write(LEVEL_0, 'No resource quota.\n');
    return;
  }
  w.write(LEVEL_0, 'Resource Quotas\n');
  for (const q of [...quotas].sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))) {
    w.write(LEVEL_1, `Name:\t${q.metadata.name ?? ''}\n`);
    const scopes = [...(q.spec?.scopes ?? [])].sort();
    if (scopes.length > 0) w.write(LEVEL_1, `Scopes:\t${scopes.join(', ')}\n`);
    w.write(LEVEL_1, 'Resource\tUsed\tHard\n');
    w.write(LEVEL_1, '--------\t---\t---\n');
    for (const name of Object.keys(q.status?.hard ?? {}).sort()) {
      const used = q.status?.used?.[name];
      w.write(
        LEVEL_1,
        `${name}\t${used === undefined ? '0' : canonicalQuantity(used)}\t${canonicalQuantity(q.status?.hard?.[name])}\n`,
      );
    }
  }
}

function printLimitRanges(w: PrefixWriter, ranges: readonly LimitRange[]): void {
  if (ranges.length === 0) {
    w.write(LEVEL_0, 'No LimitRange resource.\n');
    return;
  }
  w.write(
    LEVEL_0,
    'Resource Limits\n Type\tResource\tMin\tMax\tDefault Request\tDefault Limit\tMax Limit/Request Ratio\n',
  );
  w.write(LEVEL_0, ' ----\t--------\t---\t---\t---------------\t-------------\t-----------------------\n');
  for (const range of ranges) {
    for (const item of range.spec?.limits ?? []) {
      const lists = [item.min, item.max, item.defaultRequest, item.default, item.maxLimitRequestRatio];
      const names = [...new Set(lists.flatMap((l) => Object.keys(l ?? {})))].sort();
      for (const name of names) {
        const cells = lists.map((l) => (l?.[name] === undefined ? '-' : canonicalQuantity(l[name])));
        w.write(LEVEL_0, ` ${item.type}\t${name}\t${cells.join('\t')}\n`);
      }
    }
  }
}

export function describeNamespace(
  ns: Namespace,
  related: { quotas: readonly ResourceQuota[] | undefined; limitRanges: readonly LimitRange[] | undefined },
): string {
  const w = new PrefixWriter();
  w.write(LEVEL_0, `Name:\t${ns.metadata.name ?? ''}\n`);
  printLabels(w, 'Labels', ns.metadata.labels);
  printAnnotations(w, 'Annotations', ns.metadata.annotations);
  w.write(LEVEL_0, `Status:\t${ns.status?.phase ?? ''}\n`);
  const conditions = ns.status?.conditions ?? [];
  if (conditions.length > 0) {
    w.write(LEVEL_0, 'Conditions:\n');
    w.write(LEVEL_1, 'Type\tStatus\tLastTransitionTime\tReason\tMessage\n');
    w.write(LEVEL_1, '----\t------\t------------------\t------\t-------\n');
    for (const c of conditions)
      w.write(
        LEVEL_1,
        `${c.type}\t${c.status}\t${rfc1123z(c.lastTransitionTime)}\t${c.reason ?? ''}\t${c.message ?? ''}\n`,
      );
  }
  if (related.quotas !== undefined) {
    w.write(LEVEL_0, '\n');
    printQuotas(w, related.quotas);
  }
  if (related.limitRanges !== undefined) {
    w.write(LEVEL_0, '\n');
    printLimitRanges(w, related.limitRanges);
  }
  return w.text();
}
