import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildNatRules, chainHash, proxyChains } from './rules.js';
import type { EndpointPort, Endpoints, Service, ServicePort } from './types.js';

function svc(name: string, ports: ServicePort[], extra: Partial<NonNullable<Service['spec']>> = {}): Service {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace: 'ns', name },
    spec: { clusterIP: '10.96.0.10', ports, ...extra },
  };
}

function eps(name: string, addresses: { ready: string[]; notReady?: string[] }, ports: EndpointPort[]): Endpoints {
  const { ready, notReady = [] } = addresses;
  return {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { namespace: 'ns', name },
    subsets: [{ addresses: ready.map((ip) => ({ ip })), notReadyAddresses: notReady.map((ip) => ({ ip })), ports }],
  };
}

const base = { chains: proxyChains('COX-'), clusterCIDR: '10.244.0.0/16', existingChains: [] as string[] };

function section(payload: string, table: string): string[] {
  const lines = payload.split('\n');
  const start = lines.indexOf(`*${table}`);
  const end = lines.indexOf('COMMIT', start);
  assert.ok(start >= 0 && end > start, `section ${table}`);
  return lines.slice(start + 1, end);
}

test('payload has nat and filter sections and top chains', () => {
  const out = buildNatRules({ ...base, services: [], endpoints: [] });
  const nat = section(out, 'nat');
  for (const c of ['COX-SERVICES', 'COX-NODEPORTS', 'COX-POSTROUTING', 'COX-MARK-MASQ']) {
    assert.ok(nat.includes(`:${c} - [0:0]`), c);
  }
  assert.ok(nat.some((l) => l.includes('-A COX-POSTROUTING') && l.includes('-j MASQUERADE')));
  assert.ok(nat.some((l) => l === '-A COX-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000'));
  assert.equal(
    nat.at(-1),
    '-A COX-SERVICES -m comment --comment "coxswain service nodeports" -m addrtype --dst-type LOCAL -j COX-NODEPORTS',
  );
  assert.ok(section(out, 'filter').includes(':COX-SERVICES - [0:0]'));
  assert.ok(!/PREROUTING|-A OUTPUT|-A INPUT|-A FORWARD/.test(out), 'no built-in jumps');
  assert.ok(out.startsWith('*nat\n') && out.endsWith('COMMIT\n'));
});

test('spreads over ready endpoints only with decreasing probabilities', () => {
  const out = buildNatRules({
    ...base,
    services: [svc('web', [{ name: 'http', port: 80, protocol: 'TCP' }])],
    endpoints: [
      eps('web', { ready: ['10.244.1.3', '10.244.1.2', '10.244.2.2'], notReady: ['10.244.9.9'] }, [
        { name: 'http', port: 8080 },
      ]),
    ],
  });
  const nat = section(out, 'nat');
  const svcChain = `COX-SVC-${chainHash('ns', 'web', 'http', 'TCP')}`;
  assert.ok(nat.includes(`:${svcChain} - [0:0]`));
  assert.ok(
    nat.includes(
      `-A COX-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "ns/web:http cluster IP" -m tcp --dport 80 -j ${svcChain}`,
    ),
  );
  const svcRules = nat.filter((l) => l.startsWith(`-A ${svcChain} `));
  assert.equal(svcRules[0], `-A ${svcChain} -j COX-MARK-MASQ`);
  assert.equal(svcRules.length, 4);
  const [, second, third, fourth] = svcRules;
  assert.ok(second !== undefined && third !== undefined && fourth !== undefined);
  assert.match(second, /--probability 0\.33333333333 /);
  assert.match(third, /--probability 0\.50000000000 /);
  assert.doesNotMatch(fourth, /statistic/);
  const dnats = nat.filter((l) => l.includes('DNAT'));
  assert.deepEqual(dnats.map((l) => l.split('--to-destination ')[1]).sort(), [
    '10.244.1.2:8080',
    '10.244.1.3:8080',
    '10.244.2.2:8080',
  ]);
  assert.ok(!out.includes('10.244.9.9'), 'not-ready address excluded');
  assert.ok(!section(out, 'filter').some((l) => l.includes('REJECT')));
});

test('with the pod CIDR known, only off-cluster clients and local backends are masqueraded', () => {
  const out = buildNatRules({
    ...base,
    podCIDR: '10.244.1.0/24',
    services: [svc('web', [{ name: 'http', port: 80, protocol: 'TCP' }])],
    endpoints: [eps('web', { ready: ['10.244.1.2', '10.244.2.2'] }, [{ name: 'http', port: 8080 }])],
  });
  const nat = section(out, 'nat');
  const svcChain = `COX-SVC-${chainHash('ns', 'web', 'http', 'TCP')}`;
  assert.equal(
    nat.filter((l) => l.startsWith(`-A ${svcChain} `))[0],
    `-A ${svcChain} ! -s 10.244.0.0/16 -j COX-MARK-MASQ`,
  );
  const sep = (ip: string): string[] => {
    const chain = `COX-SEP-${chainHash('ns', 'web', 'http', 'TCP', `${ip}:8080`)}`;
    return nat.filter((l) => l.startsWith(`-A ${chain} `));
  };
  assert.equal(
    sep('10.244.1.2')[0],
    `-A COX-SEP-${chainHash('ns', 'web', 'http', 'TCP', '10.244.1.2:8080')} -j COX-MARK-MASQ`,
  );
  assert.match(sep('10.244.1.2')[1] ?? '', /DNAT --to-destination 10\.244\.1\.2:8080/);
  assert.equal(sep('10.244.2.2').length, 1, 'a backend on another host sees the client pod address');
});

test('chain names are stable across rebuilds', () => {
  const input = {
    ...base,
    services: [svc('web', [{ port: 80 }])],
    endpoints: [eps('web', { ready: ['10.244.1.2'] }, [{ port: 8080 }])],
  };
  assert.equal(buildNatRules(input), buildNatRules(input));
  assert.match(buildNatRules(input), /COX-SVC-[0-9A-F]{12} /);
});

test('named ports map to endpoint ports of the same name; UDP supported', () => {
  const out = buildNatRules({
    ...base,
    services: [
      svc('dns', [
        { name: 'dns', port: 53, protocol: 'UDP' },
        { name: 'dns-tcp', port: 53, protocol: 'TCP' },
        { name: 'sctp', port: 9, protocol: 'SCTP' },
      ]),
    ],
    endpoints: [
      eps('dns', { ready: ['10.244.1.5'] }, [
        { name: 'dns-tcp', port: 5353, protocol: 'TCP' },
        { name: 'dns', port: 5354, protocol: 'UDP' },
      ]),
    ],
  });
  assert.ok(out.includes('-p udp -m comment --comment "ns/dns:dns" -m udp -j DNAT --to-destination 10.244.1.5:5354'));
  assert.ok(
    out.includes('-p tcp -m comment --comment "ns/dns:dns-tcp" -m tcp -j DNAT --to-destination 10.244.1.5:5353'),
  );
  assert.ok(!out.includes('sctp'));
});

test('headless and ExternalName services get no rules', () => {
  const out = buildNatRules({
    ...base,
    services: [
      svc('h', [{ port: 80 }], { clusterIP: 'None' }),
      svc('x', [{ port: 80 }], { type: 'ExternalName', clusterIP: '' }),
    ],
    endpoints: [eps('h', { ready: ['10.244.1.2'] }, [{ port: 80 }])],
  });
  assert.ok(!out.includes('COX-SVC-'));
  assert.ok(!out.includes('REJECT'));
});

test('no ready endpoints: filter REJECT for cluster IP and node port', () => {
  const out = buildNatRules({
    ...base,
    services: [svc('np', [{ port: 80, nodePort: 30080 }], { type: 'NodePort' })],
    endpoints: [eps('np', { ready: [], notReady: ['10.244.1.2'] }, [{ port: 80 }])],
  });
  assert.ok(!section(out, 'nat').some((l) => l.includes('COX-SVC-')));
  const filter = section(out, 'filter');
  assert.ok(
    filter.includes(
      '-A COX-SERVICES -d 10.96.0.10/32 -p tcp -m comment --comment "ns/np has no endpoints" -m tcp --dport 80 -j REJECT --reject-with icmp-port-unreachable',
    ),
  );
  assert.ok(
    filter.includes(
      '-A COX-SERVICES -p tcp -m comment --comment "ns/np has no endpoints" -m addrtype --dst-type LOCAL -m tcp --dport 30080 -j REJECT --reject-with icmp-port-unreachable',
    ),
  );
});

test('node ports jump to the service chain, before the nodeports jump is last', () => {
  const out = buildNatRules({
    ...base,
    services: [
      svc('lb', [{ port: 80, nodePort: 30081 }], { type: 'LoadBalancer' }),
      svc('ci', [{ port: 81, nodePort: 30082 }]),
    ],
    endpoints: [
      eps('lb', { ready: ['10.244.1.2'] }, [{ port: 80 }]),
      eps('ci', { ready: ['10.244.1.3'] }, [{ port: 81 }]),
    ],
  });
  const nat = section(out, 'nat');
  const svcChain = `COX-SVC-${chainHash('ns', 'lb', '', 'TCP')}`;
  assert.ok(nat.includes(`-A COX-NODEPORTS -p tcp -m comment --comment "ns/lb" -m tcp --dport 30081 -j ${svcChain}`));
  assert.ok(!out.includes('30082'), 'ClusterIP service gets no node port');
});

test('stale service chains are declared, and deleted after the rules; other chains of the prefix stay', () => {
  const stale = 'COX-SVC-000000000000';
  const out = buildNatRules({
    ...base,
    existingChains: ['COX-SERVICES', stale, 'COX-SEP-111111111111', 'COX-NET-POSTROUTING'],
    existingFilterChains: ['COX-SERVICES', 'COX-SVC-222222222222', 'COX-NET-FORWARD'],
    services: [],
    endpoints: [],
  });
  const nat = section(out, 'nat');
  const decl = nat.indexOf(`:${stale} - [0:0]`);
  const del = nat.indexOf(`-X ${stale}`);
  assert.ok(decl >= 0 && del > decl);
  const firstRule = nat.find((l) => l.startsWith('-A '));
  assert.ok(firstRule !== undefined);
  assert.ok(nat.lastIndexOf(firstRule) < del);
  assert.ok(nat.includes('-X COX-SEP-111111111111'));
  assert.ok(!nat.includes('-X COX-SERVICES'));
  assert.ok(section(out, 'filter').includes('-X COX-SVC-222222222222'));
  assert.ok(!out.includes('COX-NET-'), "the pod network chains are not the proxy's");
});

test('a LoadBalancer answers on the addresses in its status at the Service port; other types do not', () => {
  const status = { loadBalancer: { ingress: [{ ip: '198.18.0.14' }, { hostname: 'lb.example' }, { ip: 'fd00::1' }] } };
  const lb: Service = {
    ...svc('lb', [{ port: 8081, targetPort: 8080, nodePort: 30081 }], { type: 'LoadBalancer' }),
    status,
  };
  const plain: Service = { ...svc('plain', [{ port: 8082, targetPort: 8080 }]), status };
  const endpoints = ['lb', 'plain'].map((n) => eps(n, { ready: ['10.244.1.2'] }, [{ port: 8080 }]));
  const nat = section(buildNatRules({ ...base, services: [lb, plain], endpoints }), 'nat');
  const lbRules = nat.filter((l) => l.includes('loadbalancer IP'));
  assert.equal(lbRules.length, 1);
  assert.match(lbRules[0] ?? '', /-d 198\.18\.0\.14\/32 -p tcp .*--dport 8081 -j COX-SVC-/);
});
