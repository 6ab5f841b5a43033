import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podResolvConf, renderResolvConf } from './pod-dns.js';

const cluster = { nameservers: ['10.244.1.1'], domain: 'cluster.local' };

test('ClusterFirst pods get the cluster DNS, the namespace search path and ndots:5', () => {
  const conf = podResolvConf({}, 'shop', cluster);
  assert.deepEqual(conf, {
    nameservers: ['10.244.1.1'],
    searches: ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local'],
    options: ['ndots:5'],
  });
  assert.ok(conf);
  assert.equal(
    renderResolvConf(conf),
    'nameserver 10.244.1.1\nsearch shop.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5\n',
  );
});

test('hostNetwork pods fall back to the node resolver unless ClusterFirstWithHostNet', () => {
  assert.equal(podResolvConf({ hostNetwork: true }, 'a', cluster), undefined);
  assert.deepEqual(
    podResolvConf({ hostNetwork: true, dnsPolicy: 'ClusterFirstWithHostNet' }, 'a', cluster)?.nameservers,
    ['10.244.1.1'],
  );
  assert.equal(podResolvConf({ dnsPolicy: 'Default' }, 'a', cluster), undefined);
});

test('dnsConfig appends nameservers and searches and overrides options by name; None uses only dnsConfig', () => {
  const conf = podResolvConf(
    {
      dnsConfig: {
        nameservers: ['1.2.3.4'],
        searches: ['corp.example'],
        options: [{ name: 'ndots', value: '2' }, { name: 'edns0' }],
      },
    },
    'a',
    cluster,
  );
  assert.deepEqual(conf, {
    nameservers: ['10.244.1.1', '1.2.3.4'],
    searches: ['a.svc.cluster.local', 'svc.cluster.local', 'cluster.local', 'corp.example'],
    options: ['ndots:2', 'edns0'],
  });
  assert.deepEqual(podResolvConf({ dnsPolicy: 'None', dnsConfig: { nameservers: ['9.9.9.9'] } }, 'a', cluster), {
    nameservers: ['9.9.9.9'],
    searches: [],
    options: [],
  });
});
