import { container, runCases } from './fixtures.js';

runCases(
  'procMount_restricted',
  ['restricted'],
  [
    { name: 'Default', spec: { containers: [container('c', { procMount: 'Default' })] } },
    {
      name: 'Unmasked even in a user namespace',
      spec: { hostUsers: false, containers: [container('c', { procMount: 'Unmasked' })] },
      reason: 'procMount',
      detail: 'container "c" must not set securityContext.procMount to "Unmasked"',
      fields: ['spec.containers[0].securityContext.procMount'],
    },
  ],
);

runCases(
  'allowPrivilegeEscalation',
  ['restricted'],
  [
    { name: 'false', spec: { containers: [container('c', { allowPrivilegeEscalation: false })] } },
    { name: 'windows pods', spec: { os: { name: 'windows' }, containers: [{ name: 'c' }] } },
    {
      name: 'unset and true',
      spec: {
        initContainers: [container('i', { allowPrivilegeEscalation: true })],
        containers: [{ name: 'c' }, container('ok', { allowPrivilegeEscalation: false })],
      },
      reason: 'allowPrivilegeEscalation != false',
      detail: 'containers "i", "c" must set securityContext.allowPrivilegeEscalation=false',
      fields: [
        'spec.initContainers[0].securityContext.allowPrivilegeEscalation',
        'spec.containers[0].securityContext.allowPrivilegeEscalation',
      ],
    },
  ],
);

runCases(
  'capabilities_restricted',
  ['restricted'],
  [
    {
      name: 'drop ALL, add NET_BIND_SERVICE',
      spec: { containers: [container('c', { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } })] },
    },
    { name: 'windows pods', spec: { os: { name: 'windows' } } },
    {
      name: 'missing drop and forbidden add',
      spec: {
        containers: [
          { name: 'a' },
          container('b', { capabilities: { drop: ['NET_RAW'] } }),
          container('c', { capabilities: { drop: ['ALL'], add: ['CHOWN', 'NET_BIND_SERVICE'] } }),
        ],
      },
      reason: 'unrestricted capabilities',
      detail:
        'containers "a", "b" must set securityContext.capabilities.drop=["ALL"]; container "c" must not include "CHOWN" in securityContext.capabilities.add',
      fields: [
        'spec.containers[0].securityContext.capabilities.drop',
        'spec.containers[1].securityContext.capabilities.drop',
        'spec.containers[2].securityContext.capabilities.add',
      ],
    },
    {
      name: 'an ephemeral container that adds SYS_PTRACE',
      spec: {
        containers: [container('c', { capabilities: { drop: ['ALL'] } })],
        ephemeralContainers: [container('debug', { capabilities: { drop: ['ALL'], add: ['SYS_PTRACE'] } })],
      },
      reason: 'unrestricted capabilities',
      detail: 'container "debug" must not include "SYS_PTRACE" in securityContext.capabilities.add',
      fields: ['spec.ephemeralContainers[0].securityContext.capabilities.add'],
    },
  ],
);

runCases(
  'restrictedVolumes',
  ['restricted'],
  [
    {
      name: 'allowed sources',
      spec: {
        volumes: [
          { name: 'a', configMap: { name: 'x' } },
          { name: 'b', secret: { secretName: 'x' } },
          { name: 'c', emptyDir: {} },
          { name: 'd', projected: { sources: [] } },
          { name: 'e', downwardAPI: {} },
          { name: 'f', persistentVolumeClaim: { claimName: 'x' } },
          { name: 'g', csi: { driver: 'x' } },
          { name: 'h', ephemeral: {} },
          { name: 'i', image: { reference: 'x' } },
        ],
      },
    },
    {
      name: 'restricted sources',
      spec: {
        volumes: [
          { name: 'root', hostPath: { path: '/' } },
          { name: 'ok', emptyDir: {} },
          { name: 'share', nfs: { server: 's', path: '/' } },
          { name: 'blank' },
        ],
      },
      reason: 'restricted volume types',
      detail: 'volumes "root", "share", "blank" use restricted volume types "hostPath", "nfs", "unknown"',
      fields: ['spec.volumes[0]', 'spec.volumes[2]', 'spec.volumes[3]'],
    },
    {
      name: 'one',
      spec: { volumes: [{ name: 'repo', gitRepo: { repository: 'x' } }] },
      reason: 'restricted volume types',
      detail: 'volume "repo" uses restricted volume type "gitRepo"',
    },
  ],
);

runCases(
  'runAsNonRoot',
  ['restricted'],
  [
    { name: 'pod true', spec: { securityContext: { runAsNonRoot: true } } },
    { name: 'every container true', spec: { containers: [container('c', { runAsNonRoot: true })] } },
    { name: 'user namespace', spec: { hostUsers: false, securityContext: { runAsNonRoot: false } } },
    {
      name: 'explicit false',
      spec: {
        securityContext: { runAsNonRoot: false },
        containers: [container('a', { runAsNonRoot: false }), container('b', { runAsNonRoot: true })],
      },
      reason: 'runAsNonRoot != true',
      detail: 'pod and container "a" must not set securityContext.runAsNonRoot=false',
    },
    {
      name: 'container false overrides pod true',
      spec: { securityContext: { runAsNonRoot: true }, containers: [container('a', { runAsNonRoot: false })] },
      reason: 'runAsNonRoot != true',
      detail: 'container "a" must not set securityContext.runAsNonRoot=false',
    },
    {
      name: 'unset',
      spec: { containers: [{ name: 'a' }, container('b', { runAsNonRoot: true }), { name: 'c' }] },
      reason: 'runAsNonRoot != true',
      detail: 'pod or containers "a", "c" must set securityContext.runAsNonRoot=true',
    },
  ],
);

runCases(
  'runAsUser',
  ['restricted'],
  [
    { name: 'non-zero', spec: { securityContext: { runAsUser: 1000 } } },
    { name: 'user namespace', spec: { hostUsers: false, securityContext: { runAsUser: 0 } } },
    {
      name: 'zero',
      spec: { securityContext: { runAsUser: 0 }, containers: [container('a', { runAsUser: 0 })] },
      reason: 'runAsUser=0',
      detail: 'pod and container "a" must not set runAsUser=0',
      fields: ['spec.securityContext.runAsUser', 'spec.containers[0].securityContext.runAsUser'],
    },
  ],
);

runCases(
  'seccompProfile_restricted',
  ['restricted'],
  [
    { name: 'pod RuntimeDefault', spec: { securityContext: { seccompProfile: { type: 'RuntimeDefault' } } } },
    { name: 'container Localhost', spec: { containers: [container('c', { seccompProfile: { type: 'Localhost' } })] } },
    { name: 'windows pods', spec: { os: { name: 'windows' } } },
    {
      name: 'unset',
      spec: { containers: [{ name: 'a' }, container('b', { seccompProfile: { type: 'RuntimeDefault' } })] },
      reason: 'seccompProfile',
      detail: 'pod or container "a" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"',
    },
    {
      name: 'Unconfined container under a good pod profile',
      spec: {
        securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
        containers: [container('a', { seccompProfile: { type: 'Unconfined' } })],
      },
      reason: 'seccompProfile',
      detail: 'container "a" must not set securityContext.seccompProfile.type to "Unconfined"',
    },
  ],
);

// Baseline checks the restricted level replaces must not report twice.
runCases(
  'capabilities_baseline',
  ['restricted'],
  [
    {
      name: 'replaced by capabilities_restricted',
      spec: { containers: [container('c', { capabilities: { add: ['SYS_ADMIN'] } })] },
    },
  ],
);
runCases(
  'hostPathVolumes',
  ['restricted'],
  [{ name: 'replaced by restrictedVolumes', spec: { volumes: [{ name: 'root', hostPath: { path: '/' } }] } }],
);
runCases(
  'seccompProfile_baseline',
  ['restricted'],
  [
    {
      name: 'replaced by seccompProfile_restricted',
      spec: { securityContext: { seccompProfile: { type: 'Unconfined' } } },
    },
  ],
);
runCases(
  'procMount',
  ['restricted'],
  [{ name: 'replaced by procMount_restricted', spec: { containers: [container('c', { procMount: 'Unmasked' })] } }],
);
