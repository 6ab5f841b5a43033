// Workloads (Deployments, StatefulSets, DaemonSets, Jobs) with their rollout progress and the
// scale and rollout restart buttons, and the pods list.

import { useState } from 'preact/hooks';
import type { DaemonSet, Deployment, Job, Pod, StatefulSet } from '../../api/types/index.js';
import { ownedByRevision, rollbackTemplate } from '../../api/deployment-rollback.js';
import type { ReplicaSet } from '../../api/types/index.js';
import { isRecord, patch, request } from './api.js';
import { age, podStatus, readyCount, restarts } from './format.js';
import { href, listPath, useList, useTick } from './hooks.js';
import { Bar, Phase, Section } from './widgets.js';

type Scalable = 'deployments' | 'statefulsets';
type Restartable = Scalable | 'daemonsets';

function objectPath(plural: string, ns: string, name: string): string {
  return `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/${plural}/${encodeURIComponent(name)}`;
}

/** One button's action and what became of it (shown beside the row, not thrown at the page). */
function useAction(): { busy: boolean; message: string; run: (action: () => Promise<unknown>) => void } {
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState('');
  const run = (action: () => Promise<unknown>): void => {
    setBusy(true);
    setMessage('');
    action()
      .catch((err: unknown) => setMessage(err instanceof Error ? err.message : String(err)))
      .finally(() => setBusy(false));
  };
  return { busy, message, run };
}

/** `kubectl rollout undo`: the previous revision's template, from the Deployment's ReplicaSets. */
async function undo(shown: Deployment): Promise<void> {
  const ns = shown.metadata.namespace ?? '';
  const path = objectPath('deployments', ns, shown.metadata.name ?? '');
  // As the server has it now (the row may be a moment behind): its revision decides what "previous" is.
  const d = (await request(path)) as Deployment;
  const list = await request(`/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/replicasets`);
  // The server's ReplicaSets (what the path lists).
  const sets = (isRecord(list) && Array.isArray(list['items']) ? list['items'] : []) as ReplicaSet[];
  const rollback = rollbackTemplate(d, ownedByRevision(d, sets), { cli: 'kubectl' });
  if ('refusal' in rollback) throw new Error(rollback.refusal);
  await patch(path, [{ op: 'replace', path: '/spec/template', value: rollback.template }], 'json');
}

function Actions(props: {
  plural: Restartable;
  ns: string;
  name: string;
  replicas?: number;
  deployment?: Deployment;
}): preact.JSX.Element {
  const { plural, ns, name, replicas, deployment } = props;
  const action = useAction();
  const path = objectPath(plural, ns, name);
  const scale = (to: number): void => action.run(() => patch(path, { spec: { replicas: Math.max(0, to) } }, 'merge'));
  // kubectl rollout restart: a new template annotation makes a new rollout.
  const restart = (): void =>
    action.run(() =>
      patch(
        path,
        {
          spec: {
            template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } },
          },
        },
        'strategic',
      ),
    );
  return (
    <span class="actions">
      {replicas !== undefined && (
        <>
          <button
            disabled={action.busy || replicas === 0}
            onClick={() => scale(replicas - 1)}
            aria-label={`scale ${name} down`}
          >
            −
          </button>
          <button disabled={action.busy} onClick={() => scale(replicas + 1)} aria-label={`scale ${name} up`}>
            +
          </button>
        </>
      )}
      <button disabled={action.busy} onClick={restart}>
        Restart
      </button>
      {deployment !== undefined && (
        <button disabled={action.busy} onClick={() => action.run(() => undo(deployment))}>
          Undo
        </button>
      )}
      {action.message !== '' && <span class="error">{action.message}</span>}
    </span>
  );
}

function Progress(props: { ready: number; updated: number; desired: number }): preact.JSX.Element {
  const { ready, updated, desired } = props;
  return (
    <div class="progress">
      <Bar used={ready} total={desired} label={`${ready}/${desired} ready`} progress />
      {updated < desired && <span class="muted">{`${updated}/${desired} updated`}</span>}
    </div>
  );
}

function Row(props: {
  kind: string;
  ns: string;
  name: string;
  created?: string;
  children: preact.ComponentChildren;
}): preact.JSX.Element {
  return (
    <tr data-workload={`${props.kind}/${props.ns}/${props.name}`}>
      <td>{props.kind}</td>
      <td>{props.ns}</td>
      <td>{props.name}</td>
      {props.children}
      <td>{age(props.created)}</td>
    </tr>
  );
}

function Head(): preact.JSX.Element {
  return (
    <thead>
      <tr>
        <th>Kind</th>
        <th>Namespace</th>
        <th>Name</th>
        <th>Replicas</th>
        <th>Rollout</th>
        <th>Actions</th>
        <th>Age</th>
      </tr>
    </thead>
  );
}

export function WorkloadsPage(props: { namespace: string }): preact.JSX.Element {
  useTick(5000);
  const ns = props.namespace;
  const deployments = useList<Deployment>(listPath('/apis/apps/v1', 'deployments', ns));
  const statefulsets = useList<StatefulSet>(listPath('/apis/apps/v1', 'statefulsets', ns));
  const daemonsets = useList<DaemonSet>(listPath('/apis/apps/v1', 'daemonsets', ns));
  const jobs = useList<Job>(listPath('/apis/batch/v1', 'jobs', ns));
  return (
    <div data-testid="workloads">
      <Section title="Deployments" view={deployments}>
        <table>
          <Head />
          <tbody>
            {deployments.items.map((d) => {
              const name = d.metadata.name ?? '';
              const dns = d.metadata.namespace ?? '';
              const want = d.spec?.replicas ?? 1;
              const st = d.status ?? {};
              return (
                <Row kind="Deployment" ns={dns} name={name} created={d.metadata.creationTimestamp}>
                  <td data-testid="replicas">{`${st.readyReplicas ?? 0}/${want}`}</td>
                  <td>
                    <Progress ready={st.readyReplicas ?? 0} updated={st.updatedReplicas ?? 0} desired={want} />
                  </td>
                  <td>
                    <Actions plural="deployments" ns={dns} name={name} replicas={want} deployment={d} />
                  </td>
                </Row>
              );
            })}
          </tbody>
        </table>
      </Section>
      <Section title="StatefulSets" view={statefulsets}>
        <table>
          <Head />
          <tbody>
            {statefulsets.items.map((s) => {
              const name = s.metadata.name ?? '';
              const sns = s.metadata.namespace ?? '';
              const want = s.spec?.replicas ?? 1;
              return (
                <Row kind="StatefulSet" ns={sns} name={name} created={s.metadata.creationTimestamp}>
                  <td>{`${s.status?.readyReplicas ?? 0}/${want}`}</td>
                  <td>
                    <Progress
                      ready={s.status?.readyReplicas ?? 0}
                      updated={s.status?.updatedReplicas ?? 0}
                      desired={want}
                    />
                  </td>
                  <td>
                    <Actions plural="statefulsets" ns={sns} name={name} replicas={want} />
                  </td>
                </Row>
              );
            })}
          </tbody>
        </table>
      </Section>
      <Section title="DaemonSets" view={daemonsets}>
        <table>
          <Head />
          <tbody>
            {daemonsets.items.map((d) => {
              const name = d.metadata.name ?? '';
              const dns = d.metadata.namespace ?? '';
              const st = d.status;
              const want = st?.desiredNumberScheduled ?? 0;
              return (
                <Row kind="DaemonSet" ns={dns} name={name} created={d.metadata.creationTimestamp}>
                  <td>{`${st?.numberReady ?? 0}/${want}`}</td>
                  <td>
                    <Progress ready={st?.numberReady ?? 0} updated={st?.updatedNumberScheduled ?? 0} desired={want} />
                  </td>
                  <td>
                    <Actions plural="daemonsets" ns={dns} name={name} />
                  </td>
                </Row>
              );
            })}
          </tbody>
        </table>
      </Section>
      <Section title="Jobs" view={jobs}>
        <table>
          <Head />
          <tbody>
            {jobs.items.map((j) => {
              const name = j.metadata.name ?? '';
              const want = j.spec?.completions ?? 1;
              const done = (j.status?.conditions ?? []).find(
                (c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True',
              );
              return (
                <Row kind="Job" ns={j.metadata.namespace ?? ''} name={name} created={j.metadata.creationTimestamp}>
                  <td>{`${j.status?.succeeded ?? 0}/${want}`}</td>
                  <td>
                    <Bar
                      used={j.status?.succeeded ?? 0}
                      total={want}
                      label={`${j.status?.succeeded ?? 0}/${want} succeeded`}
                      progress
                    />
                  </td>
                  <td>{done === undefined ? `${j.status?.active ?? 0} active` : <Phase phase={done.type} />}</td>
                </Row>
              );
            })}
          </tbody>
        </table>
      </Section>
    </div>
  );
}

export function PodsPage(props: { namespace: string }): preact.JSX.Element {
  useTick(5000);
  const pods = useList<Pod>(listPath('/api/v1', 'pods', props.namespace));
  const sorted = [...pods.items].sort((a, b) =>
    `${a.metadata.namespace ?? ''}/${a.metadata.name ?? ''}`.localeCompare(
      `${b.metadata.namespace ?? ''}/${b.metadata.name ?? ''}`,
    ),
  );
  return (
    <Section title="Pods" view={pods} testId="pods">
      <table>
        <thead>
          <tr>
            <th>Namespace</th>
            <th>Name</th>
            <th>Ready</th>
            <th>Status</th>
            <th>Restarts</th>
            <th>Node</th>
            <th>IP</th>
            <th>Age</th>
          </tr>
        </thead>
        <tbody>
          {sorted.map((p) => {
            const ns = p.metadata.namespace ?? '';
            const name = p.metadata.name ?? '';
            return (
              <tr key={`${ns}/${name}`} data-pod={`${ns}/${name}`}>
                <td>{ns}</td>
                <td>
                  <a href={href(['pod', ns, name], props.namespace)}>{name}</a>
                </td>
                <td>{readyCount(p)}</td>
                <td>
                  <Phase phase={podStatus(p)} />
                </td>
                <td>{restarts(p)}</td>
                <td>{p.spec?.nodeName ?? <span class="muted">not scheduled</span>}</td>
                <td>{p.status?.podIP ?? ''}</td>
                <td>{age(p.metadata.creationTimestamp)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </Section>
  );
}
