// The cluster's pages: nodes (conditions, capacity and allocation), namespaces, events, and
// the host map (each node a box with its pods inside, colored by phase).

import type { Event, Namespace, Node, Pod } from '../../api/types/index.js';
import { age, bytes, cores, isTerminated, podRequests, podStatus, quantity } from './format.js';
import { href, listPath, useList, useTick } from './hooks.js';
import { Bar, Phase, Section } from './widgets.js';

function allocated(pods: Pod[], node: string): { cpu: number; memory: number; pods: number } {
  const sum = { cpu: 0, memory: 0, pods: 0 };
  for (const p of pods) {
    if (p.spec?.nodeName !== node || isTerminated(p)) continue;
    const r = podRequests(p);
    sum.cpu += r.cpu;
    sum.memory += r.memory;
    sum.pods++;
  }
  return sum;
}

function ready(node: Node): string {
  const c = (node.status?.conditions ?? []).find((x) => x.type === 'Ready');
  if (c === undefined) return 'Unknown';
  return c.status === 'True' ? 'Ready' : 'NotReady';
}

export function NodesPage(): preact.JSX.Element {
  const nodes = useList<Node>('/api/v1/nodes');
  const pods = useList<Pod>('/api/v1/pods');
  return (
    <Section title="Nodes" view={nodes} testId="nodes">
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>Conditions</th>
            <th>CPU requests</th>
            <th>Memory requests</th>
            <th>Pods</th>
            <th>Version</th>
            <th>Age</th>
          </tr>
        </thead>
        <tbody>
          {nodes.items.map((n) => {
            const name = n.metadata.name ?? '';
            const alloc = n.status?.allocatable ?? {};
            const used = allocated(pods.items, name);
            const cpu = quantity(alloc['cpu']);
            const memory = quantity(alloc['memory']);
            const maxPods = quantity(alloc['pods']);
            const pressure = (n.status?.conditions ?? []).filter((c) => c.type !== 'Ready' && c.status === 'True');
            return (
              <tr key={name} data-node={name}>
                <td>{name}</td>
                <td>
                  <Phase phase={ready(n)} />
                  {n.spec?.unschedulable === true && <span class="tag">SchedulingDisabled</span>}
                </td>
                <td>
                  {pressure.length === 0 ? (
                    <span class="muted">no pressure</span>
                  ) : (
                    pressure.map((c) => <span class="tag warn">{c.type}</span>)
                  )}
                </td>
                <td>
                  <Bar used={used.cpu} total={cpu} label={`${cores(used.cpu)} / ${cores(cpu)}`} />
                </td>
                <td>
                  <Bar used={used.memory} total={memory} label={`${bytes(used.memory)} / ${bytes(memory)}`} />
                </td>
                <td>
                  <Bar used={used.pods} total={maxPods} label={`${used.pods} / ${maxPods}`} />
                </td>
                <td>{n.status?.nodeInfo?.kubeletVersion ?? ''}</td>
                <td>{age(n.metadata.creationTimestamp)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {pods.state === 'forbidden' && <p class="muted">Allocation needs the right to list pods in every namespace.</p>}
    </Section>
  );
}

export function NamespacesPage(): preact.JSX.Element {
  const namespaces = useList<Namespace>('/api/v1/namespaces');
  return (
    <Section title="Namespaces" view={namespaces} testId="namespaces">
      <table>
        <thead>
          <tr>
            <th>Name</th>
            <th>Status</th>
            <th>Age</th>
          </tr>
        </thead>
        <tbody>
          {namespaces.items.map((ns) => {
            const name = ns.metadata.name ?? '';
            return (
              <tr key={name}>
                <td>
                  <a href={href(['pods'], name)}>{name}</a>
                </td>
                <td>
                  <Phase phase={ns.status?.phase ?? 'Active'} />
                </td>
                <td>{age(ns.metadata.creationTimestamp)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Section>
  );
}

function lastSeen(e: Event): string {
  return e.lastTimestamp ?? e.eventTime ?? e.series?.lastObservedTime ?? e.metadata.creationTimestamp ?? '';
}

export function EventsPage(props: { namespace: string }): preact.JSX.Element {
  useTick(5000);
  const events = useList<Event>(listPath('/api/v1', 'events', props.namespace));
  const sorted = [...events.items].sort((a, b) => lastSeen(b).localeCompare(lastSeen(a))).slice(0, 300);
  return (
    <Section title="Events" view={events} testId="events">
      <table>
        <thead>
          <tr>
            <th>Last seen</th>
            <th>Type</th>
            <th>Reason</th>
            <th>Object</th>
            <th>Message</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((e) => (
            <tr
              key={`${e.metadata.namespace ?? ''}/${e.metadata.name ?? ''}`}
              class={e.type === 'Warning' ? 'warning' : ''}
            >
              <td>{age(lastSeen(e))}</td>
              <td>{e.type ?? ''}</td>
              <td>{e.reason ?? ''}</td>
              <td>
                {(e.involvedObject.kind ?? '').toLowerCase()}/{e.involvedObject.name ?? ''}
              </td>
              <td>{e.message ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Section>
  );
}

export function HostMapPage(props: { namespace: string }): preact.JSX.Element {
  const nodes = useList<Node>('/api/v1/nodes');
  const pods = useList<Pod>(listPath('/api/v1', 'pods', props.namespace));
  const unscheduled = pods.items.filter((p) => p.spec?.nodeName === undefined);
  return (
    <Section title="Host map" view={nodes} testId="hostmap">
      {pods.state === 'forbidden' && <p class="not-allowed">Pods not shown: {pods.message}</p>}
      <div class="hosts">
        {nodes.items.map((n) => {
          const name = n.metadata.name ?? '';
          const here = pods.items.filter((p) => p.spec?.nodeName === name);
          return (
            <div class={`host ${ready(n) === 'Ready' ? '' : 'down'}`} key={name} data-host={name}>
              <div class="host-title">
                <strong>{name}</strong> <Phase phase={ready(n)} /> <span class="muted">{here.length} pods</span>
              </div>
              <div class="chips">
                {here.map((p) => (
                  <PodChip pod={p} namespace={props.namespace} />
                ))}
              </div>
            </div>
          );
        })}
        {unscheduled.length > 0 && (
          <div class="host pending">
            <div class="host-title">
              <strong>Not scheduled</strong>
            </div>
            <div class="chips">
              {unscheduled.map((p) => (
                <PodChip pod={p} namespace={props.namespace} />
              ))}
            </div>
          </div>
        )}
      </div>
      <p class="legend">
        <Phase phase="Running" /> <Phase phase="Pending" /> <Phase phase="Succeeded" /> <Phase phase="Failed" />
      </p>
    </Section>
  );
}

function PodChip(props: { pod: Pod; namespace: string }): preact.JSX.Element {
  const p = props.pod;
  const ns = p.metadata.namespace ?? '';
  const name = p.metadata.name ?? '';
  return (
    <a
      key={`${ns}/${name}`}
      class={`chip phase-${(p.status?.phase ?? 'Pending').replace(/[^A-Za-z]/g, '')}`}
      href={href(['pod', ns, name], props.namespace)}
      title={`${ns}/${name}: ${podStatus(p)}`}
    >
      {name}
    </a>
  );
}
