// coxctl get: kubectl's columns (from the shared printers), -o wide|yaml|json|name, -l,
// --field-selector, -n, -A, --show-labels, -w (a websocket watch streaming new rows).

import { objectKey, type KubeObject } from '../../api/meta.js';
import { columnsFor, rowFor } from '../../printers/index.js';
import { qualifiedKindName, type ResourceInfo } from '../../api/registry.js';
import { watchStream } from '../../client/index.js';
import { isGone } from '../../errors/index.js';
import { CliError, type CliContext } from '../context.js';
import { brokenBy, isRetryable, withReconnect, type SessionEnd } from '../reconnect.js';
import { formatColumns, renderObjects, type OutputFormat } from '../output.js';
import { parseTargets } from './targets.js';

export interface GetFlags {
  output?: string;
  selector?: string;
  fieldSelector?: string;
  allNamespaces?: boolean;
  watch?: boolean;
  showLabels?: boolean;
}

function cellText(cell: unknown): string {
  if (cell === undefined || cell === null) return '<none>';
  if (typeof cell === 'string') return cell;
  return String(cell);
}

function labelsText(obj: KubeObject): string {
  const labels = Object.entries(obj.metadata.labels ?? {}).map(([k, v]) => `${k}=${v}`);
  return labels.length > 0 ? labels.join(',') : '<none>';
}

interface TableOptions {
  wide: boolean;
  withNamespace: boolean;
  withKindPrefix: boolean;
  showLabels: boolean;
  now: Date;
}

function headerRow(r: ResourceInfo, o: TableOptions): string[] {
  const cols = columnsFor(r)
    .filter((c) => o.wide || c.priority === 0)
    .map((c) => c.name.toUpperCase());
  if (o.withNamespace) cols.unshift('NAMESPACE');
  if (o.showLabels) cols.push('LABELS');
  return cols;
}

function bodyRow(obj: KubeObject, r: ResourceInfo, o: TableOptions): string[] {
  const columns = columnsFor(r);
  const cells = rowFor(obj, r, o.now);
  const row: string[] = [];
  columns.forEach((c, i) => {
    if (!o.wide && c.priority !== 0) return;
    let text = cellText(cells[i]);
    if (i === 0 && o.withKindPrefix) text = `${qualifiedKindName(r)}/${text}`;
    row.push(text);
  });
  if (o.withNamespace) row.unshift(obj.metadata.namespace ?? '');
  if (o.showLabels) row.push(labelsText(obj));
  return row;
}

function parseOutput(output: string | undefined): { format: OutputFormat | 'table'; wide: boolean } {
  switch (output) {
    case undefined:
    case '':
      return { format: 'table', wide: false };
    case 'wide':
      return { format: 'table', wide: true };
    case 'yaml':
    case 'json':
    case 'name':
      return { format: output, wide: false };
    default:
      throw new CliError(
        `unable to match a printer suitable for the output format "${output}", allowed formats are: json,name,wide,yaml`,
      );
  }
}

export async function runGet(ctx: CliContext, args: string[], flags: GetFlags): Promise<void> {
  const { format, wide } = parseOutput(flags.output);
  const targets = parseTargets(args);
  const client = ctx.client();
  const namespace = flags.allNamespaces ? undefined : ctx.namespace();
  const multiType = targets.length > 1 || args[0] === 'all';
  const machine: KubeObject[] = [];
  const sections: string[] = [];
  let anyFound = false;
  let listRv = '';
  let watchedObjects: KubeObject[] = [];

  for (const t of targets) {
    const ns = t.resource.namespaced ? namespace : undefined;
    let objects: KubeObject[];
    if (t.names !== undefined) {
      objects = [];
      for (const name of t.names) objects.push(await client.get(t.resource, name, { namespace: ns }));
    } else {
      const list = await client.list(t.resource, {
        ...(ns !== undefined ? { namespace: ns } : {}),
        ...(flags.selector ? { labelSelector: flags.selector } : {}),
        ...(flags.fieldSelector ? { fieldSelector: flags.fieldSelector } : {}),
      });
      objects = list.items.map((o) => ({ ...o, apiVersion: list.apiVersion, kind: t.resource.kind }));
      listRv = list.metadata.resourceVersion ?? '';
    }
    watchedObjects = objects;
    if (objects.length === 0) continue;
    anyFound = true;
    if (format !== 'table') {
      machine.push(...objects);
      continue;
    }
    const o: TableOptions = {
      wide,
      withNamespace: flags.allNamespaces === true && t.resource.namespaced,
      withKindPrefix: multiType,
      showLabels: flags.showLabels === true,
      now: new Date(),
    };
    sections.push(formatColumns([headerRow(t.resource, o), ...objects.map((obj) => bodyRow(obj, t.resource, o))]));
  }

  if (format !== 'table') {
    if (machine.length > 0 || format !== 'name') {
      const single = targets.length === 1 && targets[0]?.names?.length === 1;
      ctx.io.stdout(renderObjects(machine, format, !single));
    }
  } else if (sections.length > 0) {
    ctx.out(sections.join('\n\n'));
  }
  if (!anyFound && format === 'table' && !flags.watch) {
    ctx.err(
      namespace === undefined || targets.every((t) => !t.resource.namespaced)
        ? 'No resources found'
        : `No resources found in ${namespace} namespace.`,
    );
  }

  if (flags.watch) {
    const t = targets[0];
    if (t === undefined || targets.length > 1)
      throw new CliError('watch is only supported on individual resources and resource collections');
    // One named object is watched as kubectl does: the collection narrowed by metadata.name.
    const only = t.names?.length === 1 ? t.names[0] : undefined;
    if (t.names !== undefined && only === undefined)
      throw new CliError('watch is only supported on individual resources and resource collections');
    await watchRows(ctx, t.resource, {
      namespace: t.resource.namespaced ? namespace : undefined,
      resourceVersion: only === undefined ? listRv : (watchedObjects[0]?.metadata.resourceVersion ?? ''),
      listed: watchedObjects,
      flags:
        only === undefined
          ? flags
          : { ...flags, fieldSelector: [flags.fieldSelector, `metadata.name=${only}`].filter(Boolean).join(',') },
      wide,
      format,
      printHeader: !anyFound,
    });
  }
}

interface WatchRowsOptions {
  namespace: string | undefined;
  resourceVersion: string;
  /** What the list showed: only changes to these are printed after a re-list. */
  listed: readonly KubeObject[];
  flags: GetFlags;
  wide: boolean;
  format: OutputFormat | 'table';
  printHeader: boolean;
}

/**
 * Streams the rows of changed objects. The watch is resumed from the last resourceVersion
 * seen when it breaks (an apiserver restart); when that version is too old (410), the
 * resource is listed again and only objects that changed meanwhile are printed.
 */
async function watchRows(ctx: CliContext, r: ResourceInfo, opts: WatchRowsOptions): Promise<void> {
  const o: TableOptions = {
    wide: opts.wide,
    withNamespace: opts.flags.allNamespaces === true && r.namespaced,
    withKindPrefix: false,
    showLabels: opts.flags.showLabels === true,
    now: new Date(),
  };
  let header = opts.printHeader;
  const print = (obj: KubeObject): void => {
    if (opts.format !== 'table') {
      ctx.io.stdout(renderObjects([obj], opts.format, false));
      return;
    }
    o.now = new Date();
    const rows = [bodyRow(obj, r, o)];
    if (header) rows.unshift(headerRow(r, o));
    header = false;
    ctx.out(formatColumns(rows));
  };
  const selection = {
    ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
    ...(opts.flags.selector ? { labelSelector: opts.flags.selector } : {}),
    ...(opts.flags.fieldSelector ? { fieldSelector: opts.flags.fieldSelector } : {}),
  };
  const known = new Map(opts.listed.map((obj) => [objectKey(obj), obj]));
  let resourceVersion = opts.resourceVersion;

  const relist = async (): Promise<void> => {
    const list = await ctx.client().list(r, selection);
    const seen = new Set<string>();
    for (const item of list.items) {
      const obj = { ...item, apiVersion: list.apiVersion, kind: r.kind };
      const key = objectKey(obj);
      seen.add(key);
      if (known.get(key)?.metadata.resourceVersion !== obj.metadata.resourceVersion) print(obj);
      known.set(key, obj);
    }
    for (const [key, gone] of known) {
      if (seen.has(key)) continue;
      known.delete(key);
      print(gone);
    }
    resourceVersion = list.metadata.resourceVersion ?? '';
  };

  const session = async (): Promise<SessionEnd> => {
    let progressed = false;
    if (resourceVersion === '') {
      try {
        await relist();
      } catch (err) {
        if (!isRetryable(err)) throw err;
        return brokenBy(err, false);
      }
      progressed = true;
    }
    return new Promise<SessionEnd>((resolve, reject) => {
      const expired = (): void => {
        resourceVersion = '';
        resolve({ kind: 'broken', progressed: true, reason: 'the resourceVersion is too old; listing again' });
      };
      const stream = watchStream(
        ctx.client(),
        { resource: r, ...selection, resourceVersion },
        {
          onOpen: () => (progressed = true),
          onEvent: (ev) => {
            progressed = true;
            if (ev.type === 'ERROR') {
              // An ERROR event carries a Status, not an object of the resource.
              stream.stop();
              const code = ev.object['code'];
              const message = ev.object['message'];
              if (code === 410) expired();
              else if (typeof code === 'number' && code >= 500) resolve(brokenBy(new Error(String(message)), true));
              else reject(new CliError(typeof message === 'string' ? message : 'watch failed'));
              return;
            }
            const rv = ev.object.metadata.resourceVersion;
            if (rv !== undefined && rv !== '') resourceVersion = rv;
            if (ev.type === 'BOOKMARK') return;
            const key = objectKey(ev.object);
            if (ev.type === 'DELETED') known.delete(key);
            else known.set(key, ev.object);
            print(ev.object);
          },
          onClose: (err) => {
            if (err === undefined) resolve({ kind: 'broken', progressed, reason: 'the watch stream closed' });
            else if (isGone(err)) expired();
            else if (isRetryable(err)) resolve(brokenBy(err, progressed));
            else reject(err);
          },
        },
      );
    });
  };
  await withReconnect(`watch of ${r.plural}`, session, { notice: (line) => ctx.err(line) });
}
