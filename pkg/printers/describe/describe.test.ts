import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Deployment, EndpointSlice, Event, Node, Pod, ReplicaSet, Service } from '../../api/types/index.js';
import {
  describeCronJob,
  describeDeployment,
  describeGeneric,
  describeNode,
  describePod,
  describeService,
  describeServiceAccount,
  endpointsText,
  probeText,
  rfc1123z,
  smartLabel,
} from './index.js';

process.env['TZ'] = 'UTC';
const NOW = new Date('2026-11-30T10:43:00Z');
const T = '2026-11-30T10:42:45Z';

const pod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: 'web-1',
    namespace: 'default',
    uid: 'u1',
    labels: { app: 'web', 'pod-template-hash': 'abc' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'rs1', controller: true }],
  },
  spec: {
    priority: 0,
    serviceAccountName: 'default',
    nodeName: 'n1',
    containers: [
      {
        name: 'main',
        image: 'busybox:latest',
        command: ['sh', '-c', 'sleep 3600'],
        ports: [{ containerPort: 8080, protocol: 'TCP', name: 'http' }],
        env: [
          { name: 'A', value: '1' },
          { name: 'B', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } },
        ],
        resources: { limits: { cpu: '100m', memory: '64Mi' }, requests: { cpu: '0.05', memory: '32Mi' } },
        volumeMounts: [{ name: 'data', mountPath: '/data' }],
        readinessProbe: { httpGet: { path: '/healthz', port: 8080 } },
      },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
    tolerations: [
      { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
    ],
  },
  status: {
    phase: 'Running',
    hostIP: '127.0.0.1',
    podIP: '10.244.0.3',
    podIPs: [{ ip: '10.244.0.3' }],
    startTime: T,
    qosClass: 'Burstable',
    conditions: [
      { type: 'Ready', status: 'True' },
      { type: 'PodScheduled', status: 'True' },
    ],
    containerStatuses: [
      {
        name: 'main',
        ready: true,
        restartCount: 2,
        image: 'busybox:latest',
        imageID: 'sha256:1',
        containerID: 'docker://c1',
        state: { running: { startedAt: T } },
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', startedAt: T, finishedAt: T } },
      },
    ],
  },
};

const event: Event = {
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'e1', namespace: 'default' },
  involvedObject: { kind: 'Pod', name: 'web-1', fieldPath: 'spec.containers{main}' },
  type: 'Normal',
  reason: 'Started',
  message: 'Started container main ',
  source: { component: 'kubelet' },
  firstTimestamp: '2026-11-30T10:40:00Z',
  lastTimestamp: '2026-11-30T10:42:30Z',
  count: 3,
};

test('describe pod: sections, order and alignment as kubectl prints them', () => {
  const text = describePod(pod, { events: [event] }, NOW);
  assert.equal(
    text,
    `Name:             web-1
Namespace:        default
Priority:         0
Service Account:  default
Node:             n1/127.0.0.1
Start Time:       Mon, 30 Nov 2026 10:42:45 +0000
Labels:           app=web
                  pod-template-hash=abc
Annotations:      <none>
Status:           Running
IP:               10.244.0.3
IPs:
  IP:           10.244.0.3
Controlled By:  ReplicaSet/web-abc
Containers:
  main:
    Container ID:  docker://c1
    Image:         busybox:latest
    Image ID:      sha256:1
    Port:          8080/TCP
    Host Port:     0/TCP
    Command:
      sh
      -c
      sleep 3600
    State:          Running
      Started:      Mon, 30 Nov 2026 10:42:45 +0000
    Last State:     Terminated
      Reason:       OOMKilled
      Exit Code:    137
      Started:      Mon, 30 Nov 2026 10:42:45 +0000
      Finished:     Mon, 30 Nov 2026 10:42:45 +0000
    Ready:          True
    Restart Count:  2
    Limits:
      cpu:     100m
      memory:  64Mi
    Requests:
      cpu:      50m
      memory:   32Mi
    Readiness:  http-get http://:8080/healthz delay=0s timeout=1s period=10s #success=1 #failure=3
    Environment:
      A:  1
      B:  web-1 (v1:metadata.name)
    Mounts:
      /data from data (rw)
Conditions:
  Type           Status
  Ready          True 
  PodScheduled   True 
Volumes:
  data:
    Type:        EmptyDir (a temporary directory that shares a pod's lifetime)
    Medium:      
    SizeLimit:   <unset>
QoS Class:       Burstable
Node-Selectors:  <none>
Tolerations:     node.kubernetes.io/not-ready:NoExecute op=Exists for 300s
                 node.kubernetes.io/unreachable:NoExecute op=Exists for 300s
Events:
  Type    Reason   Age               From     Message
  ----    ------   ----              ----     -------
  Normal  Started  30s (x3 over 3m)  kubelet  spec.containers{main}: Started container main
`,
  );
});

test('describe pod: a pod not yet scheduled, with no IP and no events', () => {
  const pending: Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'ns' },
    spec: { containers: [{ name: 'c', image: 'x' }] },
    status: { phase: 'Pending' },
  };
  const text = describePod(pending, { events: [] }, NOW);
  assert.match(text, /^Node:\s+<none>$/m);
  assert.match(text, /^IPs:\s+<none>$/m);
  assert.match(text, /^ {4}Port:\s+<none>$/m);
  assert.match(text, /^ {4}Environment:\s+<none>$/m);
  assert.match(text, /^Volumes:\s+<none>$/m);
  assert.match(text, /Events:\s+<none>\n$/);
});

test('hostile: multi-line and over-long annotations, terminal escapes', () => {
  const p: Pod = {
    ...pod,
    metadata: {
      ...pod.metadata,
      annotations: {
        multi: 'line one\nline two\n',
        long: 'x'.repeat(300),
        evil: '\x1b[2J',
        'kubectl.kubernetes.io/last-applied-configuration': '{}',
      },
    },
  };
  const text = describePod(p, { events: undefined }, NOW);
  assert.match(
    text,
    /^Annotations:\s+evil: \^\[\[2J\n\s+long:\n\s+x{138}\.\.\.\n\s+multi:\n\s+line one\n\s+line two\n/m,
  );
  assert.doesNotMatch(text, /last-applied/);
  assert.ok(!text.includes('\x1b'), 'no raw escape reaches the terminal');
  assert.doesNotMatch(text, /Events:/, 'no events read: no Events section');
});

test('describe deployment: replicas line, strategy, template, old and new ReplicaSets', () => {
  const d: Deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {
      name: 'web',
      namespace: 'default',
      uid: 'd1',
      creationTimestamp: T,
      annotations: { 'deployment.kubernetes.io/revision': '2' },
    },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'main', image: 'busybox' }] } },
    },
    status: {
      replicas: 2,
      updatedReplicas: 2,
      availableReplicas: 1,
      unavailableReplicas: 1,
      conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
    },
  };
  const rs = (name: string, revision: string, replicas: number): ReplicaSet => ({
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      annotations: { 'deployment.kubernetes.io/revision': revision },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'd1', controller: true }],
    },
    spec: { replicas, selector: {} },
    status: { replicas },
  });
  const text = describeDeployment(d, { events: [], replicaSets: [rs('web-old', '1', 0), rs('web-new', '2', 2)] }, NOW);
  assert.match(text, /^Replicas:\s+2 desired \| 2 updated \| 2 total \| 1 available \| 1 unavailable$/m);
  assert.match(text, /^RollingUpdateStrategy: {2}25% max unavailable, 25% max surge$/m);
  assert.match(text, /^Pod Template:\n {2}Labels: {2}app=web\n {2}Containers:\n {3}main:\n {4}Image:\s+busybox\n/m);
  assert.match(
    text,
    /^Conditions:\n {2}Type\s+Status\s+Reason\n {2}----\s+------\s+------\n {2}Available\s+True\s+MinimumReplicasAvailable$/m,
  );
  assert.match(
    text,
    /^OldReplicaSets:\s+web-old \(0\/0 replicas created\)\nNewReplicaSet:\s+web-new \(2\/2 replicas created\)$/m,
  );
});

test('describe service: ports, ready endpoints only, at most three shown', () => {
  const slice = (ips: string[], ready: boolean): EndpointSlice => ({
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name: 's' },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready } })),
  });
  assert.equal(
    endpointsText([slice(['10.0.0.1', '10.0.0.2'], true), slice(['10.0.0.9'], false)], 'http'),
    '10.0.0.1:8080,10.0.0.2:8080',
  );
  assert.equal(
    endpointsText([slice(['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5'], true)], 'http'),
    '1.1.1.1:8080,1.1.1.2:8080,1.1.1.3:8080 + 2 more...',
  );
  assert.equal(endpointsText([], 'http'), '<none>');
  const svc: Service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'web', namespace: 'default' },
    spec: {
      type: 'NodePort',
      selector: { app: 'web' },
      clusterIP: '10.96.0.10',
      clusterIPs: ['10.96.0.10'],
      ipFamilies: ['IPv4'],
      ipFamilyPolicy: 'SingleStack',
      ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP', nodePort: 30080 }],
      sessionAffinity: 'None',
      externalTrafficPolicy: 'Cluster',
      internalTrafficPolicy: 'Cluster',
    },
  };
  const text = describeService(svc, { events: [], endpointSlices: [slice(['10.0.0.1'], true)] }, NOW);
  assert.match(
    text,
    /^Port:\s{21}http {2}80\/TCP\nTargetPort:\s+8080\/TCP\nNodePort:\s{17}http {2}30080\/TCP\nEndpoints:\s+10\.0\.0\.1:8080$/m,
  );
  assert.match(text, /^Events:\s+<none>$/m);
});

test('describe node: lease, conditions table, pods with their share of the node, allocated totals', () => {
  const node: Node = {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'n1', creationTimestamp: T, labels: { 'node-role.kubernetes.io/control-plane': '' } },
    spec: {
      podCIDR: '10.244.0.0/24',
      podCIDRs: ['10.244.0.0/24'],
      taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }],
    },
    status: {
      capacity: { cpu: '2', memory: '4Gi', pods: '110' },
      allocatable: { cpu: '2', memory: '4Gi', pods: '110' },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'ok',
          lastHeartbeatTime: T,
          lastTransitionTime: T,
        },
      ],
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
    },
  };
  const text = describeNode(
    node,
    {
      events: [],
      lease: {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'n1' },
        spec: { holderIdentity: 'n1', renewTime: T },
      },
      pods: [pod],
    },
    NOW,
  );
  assert.match(text, /^Roles:\s+control-plane$/m);
  assert.match(text, /^Taints:\s+k=v:NoSchedule$/m);
  assert.match(
    text,
    /^Lease:\n {2}HolderIdentity: {2}n1\n {2}AcquireTime: {5}<unset>\n {2}RenewTime: {7}Mon, 30 Nov 2026 10:42:45 \+0000$/m,
  );
  assert.match(
    text,
    /^ {2}Ready\s+True\s+Mon, 30 Nov 2026 10:42:45 \+0000\s+Mon, 30 Nov 2026 10:42:45 \+0000\s+KubeletReady\s+ok$/m,
  );
  assert.match(text, /^ {2}default\s+web-1\s+50m \(2%\)\s+100m \(5%\)\s+32Mi \(0%\)\s+64Mi \(1%\)\s+<unknown>$/m);
  assert.match(text, /^ {2}cpu\s+50m \(2%\)\s+100m \(5%\)$/m);
  assert.match(text, /^Non-terminated Pods:\s+\(1 in total\)$/m);
  const denied = describeNode(node, { events: [], lease: { error: 'leases "n1" is forbidden' }, pods: undefined }, NOW);
  assert.match(denied, /^Lease:\s+Failed to get lease: leases "n1" is forbidden$/m);
  assert.match(denied, /^Pods:\s+not authorized$/m);
});

test('probes, times and field titles as kubectl words them', () => {
  assert.equal(
    probeText({ exec: { command: ['cat', '/ok'] }, periodSeconds: 5 }),
    'exec [cat /ok] delay=0s timeout=1s period=5s #success=1 #failure=3',
  );
  assert.equal(
    probeText({ tcpSocket: { port: 'db' } }),
    'tcp-socket :db delay=0s timeout=1s period=10s #success=1 #failure=3',
  );
  assert.equal(rfc1123z(undefined), 'Mon, 01 Jan 0001 00:00:00 +0000');
  assert.equal(smartLabel('ownerReferences'), 'Owner References');
  assert.equal(smartLabel('uid'), 'UID');
  assert.equal(smartLabel('apiVersion'), 'API Version');
  assert.equal(smartLabel('some.field'), 'some.field');
  const text = describeGeneric(
    {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w', namespace: 'd', uid: 'x' },
      spec: { sizes: [1, 2], nested: { deepKey: true } },
    },
    { events: [] },
    NOW,
  );
  assert.match(text, /^Spec:\n {2}Nested:\n {4}Deep Key: {2}true\n {2}Sizes:\n {4}1\n {4}2\n/m);
  assert.match(text, /^ {2}UID:\s+x$/m);
});

test('describe serviceaccount: missing secrets marked, continuation lines under a blank header', () => {
  const text = describeServiceAccount(
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: 'robot', namespace: 'd' },
      imagePullSecrets: [{ name: 'reg1' }, { name: 'reg2' }],
    },
    {
      events: [],
      secrets: [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'reg2', namespace: 'd' } }],
    },
    NOW,
  );
  assert.match(
    text,
    /^Image pull secrets: {2}reg1 \(not found\)\n {21}reg2\nMountable secrets: {3}<none>\nTokens: {14}<none>\n/m,
  );
});

test('describe cronjob: unset limits and an absent time zone as kubectl 1.32', () => {
  const text = describeCronJob(
    {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name: 'tick', namespace: 'd' },
      spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: { spec: { containers: [{ name: 'c' }] } } } } },
    },
    { events: [] },
    NOW,
  );
  assert.doesNotMatch(text, /Time Zone/);
  assert.match(text, /^Successful Job History Limit:\s+<unset>$/m);
  assert.match(text, /^Last Schedule Time:\s+<unset>\nActive Jobs:\s+<none>$/m);
});
