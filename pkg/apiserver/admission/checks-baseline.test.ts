import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Level } from './check-types.js';
import { checkIds, evaluatePod, forbiddenDetail, forbiddenReason } from './evaluate.js';
import { container, restrictedContainer, runCases, specOf } from './fixtures.js';

const BOTH: Level[] = ['baseline', 'restricted'];

runCases('windowsHostProcess', BOTH, [
  { name: 'unset', spec: {} },
  { name: 'false', spec: { securityContext: { windowsOptions: { hostProcess: false } } } },
  {
    name: 'pod and containers',
    spec: {
      securityContext: { windowsOptions: { hostProcess: true } },
      containers: [
        container('a', { windowsOptions: { hostProcess: true } }),
        container('b', {}),
        container('c', { windowsOptions: { hostProcess: true } }),
      ],
    },
    reason: 'hostProcess',
    detail: 'pod and containers "a", "c" must not set securityContext.windowsOptions.hostProcess=true',
    fields: [
      'spec.securityContext.windowsOptions.hostProcess',
      'spec.containers[0].securityContext.windowsOptions.hostProcess',
      'spec.containers[2].securityContext.windowsOptions.hostProcess',
    ],
  },
  {
    name: 'one container only',
    spec: { containers: [container('w', { windowsOptions: { hostProcess: true } })] },
    reason: 'hostProcess',
    detail: 'container "w" must not set securityContext.windowsOptions.hostProcess=true',
  },
]);

runCases('hostNamespaces', BOTH, [
  { name: 'false', spec: { hostNetwork: false, hostPID: false, hostIPC: false } },
  {
    name: 'hostNetwork',
    spec: { hostNetwork: true },
    reason: 'host namespaces',
    detail: 'hostNetwork=true',
    fields: ['spec.hostNetwork'],
  },
  {
    name: 'all three',
    spec: { hostNetwork: true, hostPID: true, hostIPC: true },
    reason: 'host namespaces',
    detail: 'hostNetwork=true, hostPID=true, hostIPC=true',
    fields: ['spec.hostNetwork', 'spec.hostPID', 'spec.hostIPC'],
  },
]);

runCases('privileged', BOTH, [
  { name: 'false', spec: { containers: [container('c', { privileged: false })] } },
  {
    name: 'init, regular and ephemeral containers',
    spec: {
      initContainers: [container('i', { privileged: true })],
      containers: [container('c', { privileged: true }), container('ok', {})],
      ephemeralContainers: [container('e', { privileged: true })],
    },
    reason: 'privileged',
    detail: 'containers "i", "c", "e" must not set securityContext.privileged=true',
    fields: [
      'spec.initContainers[0].securityContext.privileged',
      'spec.containers[0].securityContext.privileged',
      'spec.ephemeralContainers[0].securityContext.privileged',
    ],
  },
]);

runCases(
  'capabilities_baseline',
  ['baseline'],
  [
    {
      name: 'default set',
      spec: { containers: [container('c', { capabilities: { add: ['CHOWN', 'NET_BIND_SERVICE', 'SYS_CHROOT'] } })] },
    },
    {
      name: 'beyond the default set',
      spec: {
        containers: [
          container('a', { capabilities: { add: ['NET_RAW', 'CHOWN'] } }),
          container('b', { capabilities: { add: ['SYS_ADMIN', 'NET_RAW'] } }),
        ],
      },
      reason: 'non-default capabilities',
      detail: 'containers "a", "b" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add',
      fields: [
        'spec.containers[0].securityContext.capabilities.add',
        'spec.containers[1].securityContext.capabilities.add',
      ],
    },
  ],
);

runCases(
  'hostPathVolumes',
  ['baseline'],
  [
    { name: 'emptyDir', spec: { volumes: [{ name: 'tmp', emptyDir: {} }] } },
    {
      name: 'one hostPath',
      spec: {
        volumes: [
          { name: 'tmp', emptyDir: {} },
          { name: 'root', hostPath: { path: '/' } },
        ],
      },
      reason: 'hostPath volumes',
      detail: 'volume "root"',
      fields: ['spec.volumes[1].hostPath'],
    },
    {
      name: 'two hostPaths',
      spec: {
        volumes: [
          { name: 'a', hostPath: { path: '/a' } },
          { name: 'b', hostPath: { path: '/b' } },
        ],
      },
      reason: 'hostPath volumes',
      detail: 'volumes "a", "b"',
    },
  ],
);

runCases('hostPorts', BOTH, [
  { name: 'containerPort only', spec: { containers: [{ name: 'c', ports: [{ containerPort: 80, hostPort: 0 }] }] } },
  {
    name: 'one',
    spec: { containers: [{ name: 'a' }, { name: 'b', ports: [{ containerPort: 80, hostPort: 20 }] }] },
    reason: 'hostPort',
    detail: 'container "b" uses hostPort 20',
    fields: ['spec.containers[1].ports[0].hostPort'],
  },
  {
    name: 'several',
    spec: {
      containers: [
        {
          name: 'b',
          ports: [
            { containerPort: 1, hostPort: 20 },
            { containerPort: 2, hostPort: 10 },
          ],
        },
        { name: 'c', ports: [{ containerPort: 3, hostPort: 30 }] },
      ],
    },
    reason: 'hostPort',
    detail: 'containers "b", "c" use hostPorts 10, 20, 30',
  },
]);

runCases('hostProbesAndHostLifecycle', BOTH, [
  { name: 'no host', spec: { containers: [{ name: 'c', livenessProbe: { httpGet: { port: 80, host: '' } } }] } },
  {
    name: 'probe and lifecycle hosts',
    spec: {
      containers: [
        { name: 'b', readinessProbe: { tcpSocket: { port: 1, host: '10.0.0.1' } } },
        { name: 'a', lifecycle: { preStop: { httpGet: { port: 1, host: 'example.com' } } } },
      ],
    },
    reason: 'probe or lifecycle host',
    detail: 'containers "a", "b" use probe or lifecycle hosts "10.0.0.1", "example.com"',
    fields: ['spec.containers[0].readinessProbe.tcpSocket.host', 'spec.containers[1].lifecycle.preStop.httpGet.host'],
  },
  {
    name: 'one host',
    spec: { containers: [{ name: 'a', startupProbe: { httpGet: { port: 1, host: 'h' } } }] },
    reason: 'probe or lifecycle host',
    detail: 'container "a" uses probe or lifecycle host "h"',
  },
]);

runCases('appArmorProfile', BOTH, [
  {
    name: 'allowed types and annotations',
    spec: { securityContext: { appArmorProfile: { type: 'RuntimeDefault' } } },
    annotations: {
      'container.apparmor.security.beta.kubernetes.io/a': '',
      'container.apparmor.security.beta.kubernetes.io/b': 'runtime/default',
      'container.apparmor.security.beta.kubernetes.io/c': 'localhost/foo',
    },
  },
  {
    name: 'pod Unconfined',
    spec: { securityContext: { appArmorProfile: { type: 'Unconfined' } } },
    reason: 'forbidden AppArmor profile',
    detail: 'pod must not set AppArmor profile type to "Unconfined"',
  },
  {
    name: 'container Unconfined',
    spec: { containers: [container('foo', { appArmorProfile: { type: 'Unconfined' } })] },
    reason: 'forbidden AppArmor profile',
    detail: 'container "foo" must not set AppArmor profile type to "Unconfined"',
    fields: ['spec.containers[0].securityContext.appArmorProfile.type'],
  },
  {
    name: 'annotations',
    annotations: {
      'container.apparmor.security.beta.kubernetes.io/': 'bogus',
      'container.apparmor.security.beta.kubernetes.io/d': 'localhost/foo',
      'container.apparmor.security.beta.kubernetes.io/f': 'unknown',
      'container.apparmor.security.beta.kubernetes.io/e': 'unconfined',
    },
    reason: 'forbidden AppArmor profiles',
    detail:
      'annotations must not set AppArmor profile type to "container.apparmor.security.beta.kubernetes.io/="bogus"", "container.apparmor.security.beta.kubernetes.io/e="unconfined"", "container.apparmor.security.beta.kubernetes.io/f="unknown""',
  },
]);

runCases('seLinuxOptions', BOTH, [
  {
    name: 'allowed types and level',
    spec: {
      securityContext: { seLinuxOptions: { type: 'container_t', level: 's0:c1,c2' } },
      containers: [container('c', { seLinuxOptions: { type: 'container_engine_t' } })],
    },
  },
  {
    name: 'pod and containers',
    spec: {
      securityContext: { seLinuxOptions: { type: 'foo', user: 'u', role: 'r' } },
      containers: [
        container('e', { seLinuxOptions: { type: 'bar' } }),
        container('f', { seLinuxOptions: { user: 'x' } }),
        container('ok', { seLinuxOptions: { type: 'container_init_t' } }),
        container('g', { seLinuxOptions: { role: 'x' } }),
      ],
    },
    reason: 'seLinuxOptions',
    detail:
      'pod and containers "e", "f", "g" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set',
  },
  {
    name: 'user only',
    spec: { securityContext: { seLinuxOptions: { user: 'u' } } },
    reason: 'seLinuxOptions',
    detail: 'pod set forbidden securityContext.seLinuxOptions: user may not be set',
    fields: ['spec.securityContext.seLinuxOptions'],
  },
]);

runCases(
  'procMount',
  ['baseline'],
  [
    { name: 'Default', spec: { containers: [container('c', { procMount: 'Default' })] } },
    {
      name: 'Unmasked in a user namespace',
      spec: { hostUsers: false, containers: [container('c', { procMount: 'Unmasked' })] },
    },
    {
      name: 'Unmasked',
      spec: { containers: [container('a', { procMount: 'Unmasked' }), container('b', { procMount: 'Other' })] },
      reason: 'procMount',
      detail: 'containers "a", "b" must not set securityContext.procMount to "Other", "Unmasked"',
    },
  ],
);

runCases(
  'seccompProfile_baseline',
  ['baseline'],
  [
    { name: 'unset', spec: {} },
    {
      name: 'RuntimeDefault and Localhost',
      spec: {
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        containers: [container('c', { seccompProfile: { type: 'Localhost', localhostProfile: 'p.json' } })],
      },
    },
    {
      name: 'Unconfined',
      spec: {
        securityContext: { seccompProfile: { type: 'Unconfined' } },
        containers: [container('a', { seccompProfile: { type: 'Unconfined' } }), container('b', {})],
      },
      reason: 'seccompProfile',
      detail: 'pod and container "a" must not set securityContext.seccompProfile.type to "Unconfined"',
      fields: ['spec.securityContext.seccompProfile.type', 'spec.containers[0].securityContext.seccompProfile.type'],
    },
  ],
);

runCases('sysctls', BOTH, [
  {
    name: 'safe set',
    spec: {
      securityContext: {
        sysctls: [
          { name: 'kernel.shm_rmid_forced', value: '0' },
          { name: 'net.ipv4.tcp_rmem', value: '4096 87380 16777216' },
          { name: 'net.ipv4.tcp_notsent_lowat', value: '1' },
        ],
      },
    },
  },
  {
    name: 'unsafe',
    spec: {
      securityContext: {
        sysctls: [
          { name: 'kernel.msgmax', value: '1' },
          { name: 'net.ipv4.ip_local_port_range', value: '1 2' },
          { name: 'net.core.somaxconn', value: '1' },
        ],
      },
    },
    reason: 'forbidden sysctls',
    detail: 'kernel.msgmax, net.core.somaxconn',
    fields: ['spec.securityContext.sysctls[0].name', 'spec.securityContext.sysctls[2].name'],
  },
]);

describe('levels', () => {
  const everything = {
    hostNetwork: true,
    volumes: [{ name: 'root', hostPath: { path: '/' } }],
    containers: [container('c', { privileged: true, capabilities: { add: ['SYS_ADMIN'] } })],
  };

  it('privileged runs no checks and allows anything', () => {
    assert.deepEqual(checkIds('privileged'), []);
    assert.equal(evaluatePod('privileged', { spec: specOf(everything) }).allowed, true);
  });

  it('baseline runs its checks in check-ID order', () => {
    assert.deepEqual(checkIds('baseline'), [
      'appArmorProfile',
      'capabilities_baseline',
      'hostNamespaces',
      'hostPathVolumes',
      'hostPorts',
      'hostProbesAndHostLifecycle',
      'privileged',
      'procMount',
      'seLinuxOptions',
      'seccompProfile_baseline',
      'sysctls',
      'windowsHostProcess',
    ]);
  });

  it('restricted replaces the overridden baseline checks and adds its own after', () => {
    assert.deepEqual(checkIds('restricted'), [
      'appArmorProfile',
      'hostNamespaces',
      'hostPorts',
      'hostProbesAndHostLifecycle',
      'privileged',
      'seLinuxOptions',
      'sysctls',
      'windowsHostProcess',
      'allowPrivilegeEscalation',
      'capabilities_restricted',
      'procMount_restricted',
      'restrictedVolumes',
      'runAsNonRoot',
      'runAsUser',
      'seccompProfile_restricted',
    ]);
  });

  it('joins violations into the message form', () => {
    const result = evaluatePod('baseline', { spec: specOf(everything) });
    assert.equal(
      forbiddenDetail(result),
      'non-default capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add), host namespaces (hostNetwork=true), hostPath volumes (volume "root"), privileged (container "c" must not set securityContext.privileged=true)',
    );
    assert.equal(forbiddenReason(result), 'non-default capabilities, host namespaces, hostPath volumes, privileged');
  });

  it('a pod built to the restricted standard passes every level', () => {
    const spec = specOf({ containers: [restrictedContainer('a')], initContainers: [restrictedContainer('i')] });
    for (const level of ['privileged', 'baseline', 'restricted'] as const) {
      assert.equal(evaluatePod(level, { spec }).allowed, true, level);
    }
  });

  it('a default pod passes baseline but not restricted', () => {
    assert.equal(evaluatePod('baseline', { spec: specOf() }).allowed, true);
    const result = evaluatePod('restricted', { spec: specOf() });
    assert.equal(
      forbiddenDetail(result),
      'allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")',
    );
  });

  it('malformed fields count as unset instead of throwing', () => {
    const spec = specOf({
      securityContext: { sysctls: 'nope', seccompProfile: 'Unconfined', windowsOptions: 7 },
      containers: [
        { name: 'c', securityContext: { privileged: 'true', capabilities: { add: 'SYS_ADMIN' } }, ports: 3 },
      ],
      ephemeralContainers: [{ image: 'no-name' }, 'garbage'],
      volumes: [null, 'x'],
    });
    assert.equal(evaluatePod('baseline', { spec }).allowed, true);
  });
});
