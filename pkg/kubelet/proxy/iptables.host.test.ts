import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { removalPayload } from '../host/index.js';
import { ProxyIptables } from './iptables.js';
import { proxyChains } from './rules.js';
import type { Endpoints, Service } from './types.js';

const ns = `cox-proxytest-${process.pid}`;
const isRoot = process.getuid?.() === 0;
const ipt = new ProxyIptables({ netns: ns });

function save(table: string): string {
  return execFileSync('ip', ['netns', 'exec', ns, 'iptables-save', '-t', table], { encoding: 'utf8' });
}

function count(text: string, needle: string): number {
  return text.split('\n').filter((l) => l.includes(needle)).length;
}

const web: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'ns', name: 'web' },
  spec: { type: 'NodePort', clusterIP: '10.96.0.10', ports: [{ port: 80, nodePort: 30080 }] },
};
const gone: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'ns', name: 'gone' },
  spec: { clusterIP: '10.96.0.11', ports: [{ port: 81 }] },
};
const empty: Service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { namespace: 'ns', name: 'empty' },
  spec: { clusterIP: '10.96.0.12', ports: [{ port: 82 }] },
};
const eps: Endpoints[] = [
  {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { namespace: 'ns', name: 'web' },
    subsets: [{ addresses: [{ ip: '10.244.1.2' }, { ip: '10.244.1.3' }], ports: [{ port: 8080 }] }],
  },
  {
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: { namespace: 'ns', name: 'gone' },
    subsets: [{ addresses: [{ ip: '10.244.1.4' }], ports: [{ port: 8081 }] }],
  },
];

before(() => {
  if (isRoot) execFileSync('ip', ['netns', 'add', ns]);
});

after(() => {
  if (isRoot) execFileSync('ip', ['netns', 'del', ns]);
});

const chains = proxyChains('COX-');
// Another cluster's proxy on the same machine: nothing of one may touch the other's.
const other = proxyChains('CXOTHER-');

test(
  "apply, resync without a service, cleanup; another prefix's chains stay throughout",
  { skip: !isRoot && 'needs root' },
  async () => {
    const clusterCIDR = '10.244.0.0/16';
    await ipt.sync({
      chains: other,
      services: [web],
      endpoints: [
        {
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { namespace: 'ns', name: 'web' },
          subsets: [{ addresses: [{ ip: '10.245.1.2' }], ports: [{ port: 8080 }] }],
        },
      ],
      clusterCIDR: '10.245.0.0/16',
    });
    const otherRules = (): string[] =>
      [...save('nat').split('\n'), ...save('filter').split('\n')].filter((l) => l.includes('CXOTHER-')).sort();
    const otherBefore = otherRules();
    assert.ok(otherBefore.length > 10);
    await ipt.sync({ chains, services: [web, gone, empty], endpoints: eps, clusterCIDR });
    let nat = save('nat');
    assert.equal(count(nat, '-A PREROUTING -m comment --comment "coxswain service portals" -j COX-SERVICES'), 1);
    assert.equal(count(nat, '-A OUTPUT -m comment --comment "coxswain service portals" -j COX-SERVICES'), 1);
    assert.equal(count(nat, '-j COX-POSTROUTING'), 1);
    assert.equal(count(nat, '--to-destination 10.244.1.2:8080'), 1);
    assert.equal(count(nat, '--to-destination 10.244.1.4:8081'), 1);
    assert.equal(count(nat, '--dport 30080 -j COX-SVC-'), 1);
    assert.match(nat, /--probability 0\.5000000000/);
    const goneChains = nat
      .split('\n')
      .filter((l) => l.includes('ns/gone') && l.startsWith('-A COX-SERVICES'))
      .map((l) => l.split('-j ')[1]);
    assert.equal(goneChains.length, 1);
    let filter = save('filter');
    assert.equal(count(filter, '-d 10.96.0.12/32'), 1);
    assert.equal(count(filter, '-j COX-SERVICES'), 3);

    await ipt.sync({ chains, services: [web, empty], endpoints: eps, clusterCIDR });
    await ipt.sync({ chains, services: [web, empty], endpoints: eps, clusterCIDR });
    nat = save('nat');
    const [goneChain] = goneChains;
    assert.ok(goneChain !== undefined);
    assert.ok(!nat.includes(goneChain), 'stale SVC chain deleted');
    assert.ok(!nat.includes('10.244.1.4'), 'stale SEP deleted');
    assert.ok(!nat.includes('ns/gone'));
    assert.equal(
      count(nat, '-A PREROUTING -m comment --comment "coxswain service portals" -j COX-SERVICES'),
      1,
      'jumps not duplicated',
    );
    assert.equal(count(nat, '-j COX-POSTROUTING'), 1);
    assert.equal(count(nat, '--to-destination 10.244.1.3:8080'), 1);
    filter = save('filter');
    assert.equal(count(filter, '-j COX-SERVICES'), 3);
    assert.equal(count(filter, '-d 10.96.0.12/32'), 1);

    assert.deepEqual(otherRules(), otherBefore, "the other prefix's rules are untouched by syncs");

    await ipt.removeChains('COX-');
    assert.ok(!save('nat').includes('COX-'));
    assert.ok(!save('filter').includes('COX-'));
    assert.deepEqual(otherRules(), otherBefore, "the other prefix's rules are untouched by the removal");
    await ipt.removeChains('CXOTHER-');
    assert.ok(!save('nat').includes('CXOTHER-') && !save('filter').includes('CXOTHER-'));
  },
);

test("the removal payload takes the prefix's chains and every jump to them, nothing of another prefix", () => {
  const save = [
    '*nat',
    ':PREROUTING ACCEPT [0:0]',
    ':CXAAAAAAAA-SERVICES - [0:0]',
    ':CXAAAAAAAA-SVC-0123456789AB - [0:0]',
    ':CXBBBBBBBB-SERVICES - [0:0]',
    '-A PREROUTING -m comment --comment "coxswain service portals" -j CXAAAAAAAA-SERVICES',
    '-A PREROUTING -m comment --comment "coxswain service portals" -j CXAAAAAAAA-SERVICES',
    '-A PREROUTING -m comment --comment "coxswain service portals" -j CXBBBBBBBB-SERVICES',
    '-A CXAAAAAAAA-SERVICES -d 10.96.0.10/32 -p tcp -j CXAAAAAAAA-SVC-0123456789AB',
    'COMMIT',
  ].join('\n');
  assert.equal(
    removalPayload('nat', save, 'CXAAAAAAAA-'),
    [
      '*nat',
      ':CXAAAAAAAA-SERVICES - [0:0]',
      ':CXAAAAAAAA-SVC-0123456789AB - [0:0]',
      '-D PREROUTING -m comment --comment "coxswain service portals" -j CXAAAAAAAA-SERVICES',
      '-D PREROUTING -m comment --comment "coxswain service portals" -j CXAAAAAAAA-SERVICES',
      '-X CXAAAAAAAA-SERVICES',
      '-X CXAAAAAAAA-SVC-0123456789AB',
      'COMMIT',
      '',
    ].join('\n'),
  );
  assert.equal(removalPayload('nat', save, 'CXCCCCCCCC-'), undefined, 'nothing of a cluster that has no chains');
});
