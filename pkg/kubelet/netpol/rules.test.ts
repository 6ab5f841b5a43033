import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cidrContains, parseCidr } from '../../api/cidr.js';
import type { NetworkPolicy, NetworkPolicySpec } from '../../api/types/index.js';
import { buildPolicyRules, policyChains, type PolicyPod, type PolicyRulesInput } from './rules.js';

// A small evaluator of the payload: walks the filter chains for one new connection the way
// iptables would, for the matches the builder writes, so the tests state behaviour (allowed or
// dropped) rather than rule text.

interface Packet {
  src: string;
  dst: string;
  proto?: 'tcp' | 'udp' | 'sctp';
  dport?: number;
  established?: boolean;
}

function parseChainsOf(payload: string): Map<string, string[][]> {
  const chains = new Map<string, string[][]>();
  for (const line of payload.split('\n')) {
    const decl = /^:(\S+) /.exec(line);
    if (decl?.[1] !== undefined) chains.set(decl[1], []);
    if (!line.startsWith('-A ')) continue;
    const words = line.match(/"[^"]*"|\S+/g) ?? [];
    chains.get(words[1] ?? '')?.push(words.slice(2));
  }
  return chains;
}

function inAddr(spec: string, ip: string): boolean {
  const c = parseCidr(spec.includes('/') ? spec : `${spec}/32`);
  return c !== undefined && cidrContains(c, ip);
}

function matches(words: string[], pkt: Packet, mark: { bit: boolean }): boolean {
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const v = words[i + 1] ?? '';
    if (w === '-s' && !inAddr(v, pkt.src)) return false;
    if (w === '-d' && !inAddr(v, pkt.dst)) return false;
    if (w === '-p' && v !== (pkt.proto ?? 'tcp')) return false;
    if (w === '--dport') {
      const [lo, hi] = v.split(':').map(Number);
      const port = pkt.dport ?? 0;
      if (lo === undefined || port < lo || port > (hi ?? lo)) return false;
    }
    if (w === '--ctstate' && !pkt.established) return false;
    if (w === '--mark' && !mark.bit) return false;
  }
  return true;
}

type Verdict = 'RETURN' | 'DROP';

function walk(
  chains: Map<string, string[][]>,
  at: { chain: string; pkt: Packet; mark: { bit: boolean } },
): Verdict | 'FALL' {
  const { chain, pkt, mark } = at;
  for (const words of chains.get(chain) ?? []) {
    if (!matches(words, pkt, mark)) continue;
    const target = words[words.indexOf('-j') + 1] ?? '';
    if (target === 'RETURN') return 'RETURN';
    if (target === 'DROP') return 'DROP';
    if (target === 'MARK') {
      mark.bit = words[words.indexOf('--set-xmark') + 1]?.startsWith('0x20000') ?? false;
      continue;
    }
    assert.ok(chains.has(target), `jump to undeclared chain ${target}`);
    if (walk(chains, { chain: target, pkt, mark }) === 'DROP') return 'DROP';
  }
  return 'FALL';
}

function verdict(payload: string, pkt: Packet): 'allowed' | 'dropped' {
  const chains = parseChainsOf(payload);
  return walk(chains, { chain: policyChains('CXT-').main, pkt, mark: { bit: false } }) === 'DROP'
    ? 'dropped'
    : 'allowed';
}

function pod(key: string, ip: string, labels: Record<string, string> = {}): PolicyPod {
  const [namespace = '', name = ''] = key.split('/');
  return { namespace, name, ip, labels, ports: [{ name: 'http', containerPort: 8080 }] };
}

function policy(ns: string, name: string, spec: NetworkPolicySpec): NetworkPolicy {
  return { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: ns, name }, spec };
}

const server = pod('prod/server', '10.244.1.10', { app: 'server' });
const client = pod('prod/client', '10.244.2.20', { app: 'client' });
const other = pod('prod/other', '10.244.2.21', { app: 'other' });
const monitor = pod('ops/monitor', '10.244.3.30', { app: 'client' });
const namespaces = new Map<string, Record<string, string>>([
  ['prod', { 'kubernetes.io/metadata.name': 'prod' }],
  ['ops', { 'kubernetes.io/metadata.name': 'ops', team: 'ops' }],
]);

function rules(policies: NetworkPolicy[], more: Partial<PolicyRulesInput> = {}): string {
  return buildPolicyRules({
    prefix: 'CXT-',
    localPods: [server],
    pods: [server, client, other, monitor],
    namespaces,
    policies,
    ...more,
  });
}

const toServer = (src: PolicyPod, dport = 8080): Packet => ({ src: src.ip, dst: server.ip, dport });

test('no policy: nothing is isolated and only the dispatch chain exists', () => {
  const out = rules([]);
  assert.equal(verdict(out, toServer(client)), 'allowed');
  assert.deepEqual(
    out.split('\n').filter((l) => l.startsWith(':')),
    [':CXT-NP-FWD - [0:0]'],
  );
  assert.ok(out.startsWith('*filter\n') && out.endsWith('COMMIT\n'));
});

test('default-deny ingress drops new connections; replies of allowed ones pass', () => {
  const out = rules([policy('prod', 'deny', { podSelector: {}, policyTypes: ['Ingress'] })]);
  assert.equal(verdict(out, toServer(client)), 'dropped');
  assert.equal(verdict(out, { ...toServer(client), established: true }), 'allowed');
  // Egress of the server is not isolated.
  assert.equal(verdict(out, { src: server.ip, dst: client.ip, dport: 80 }), 'allowed');
});

test('podSelector allows exactly the labelled pods of the namespace; policies are additive', () => {
  const deny = policy('prod', 'deny', { podSelector: {}, policyTypes: ['Ingress'] });
  const allow = policy('prod', 'allow-client', {
    podSelector: { matchLabels: { app: 'server' } },
    ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }],
  });
  const out = rules([deny, allow]);
  assert.equal(verdict(out, toServer(client)), 'allowed');
  assert.equal(verdict(out, toServer(other)), 'dropped');
  assert.equal(verdict(out, toServer(monitor)), 'dropped', 'same labels in another namespace');
});

test('namespaceSelector alone, and combined with a podSelector', () => {
  const byNs = policy('prod', 'from-ops', {
    podSelector: {},
    ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'ops' } } }] }],
  });
  assert.equal(verdict(rules([byNs]), toServer(monitor)), 'allowed');
  assert.equal(verdict(rules([byNs]), toServer(client)), 'dropped');
  const both = policy('prod', 'ops-clients', {
    podSelector: {},
    ingress: [
      {
        from: [
          {
            namespaceSelector: {},
            podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['client'] }] },
          },
        ],
      },
    ],
  });
  const out = rules([both]);
  assert.equal(verdict(out, toServer(monitor)), 'allowed');
  assert.equal(verdict(out, toServer(client)), 'allowed');
  assert.equal(verdict(out, toServer(other)), 'dropped');
});

test('ports: protocol, number, range (endPort) and the pod’s named port', () => {
  const p = policy('prod', 'ports', {
    podSelector: {},
    ingress: [
      { ports: [{ protocol: 'TCP', port: 'http' }] },
      { ports: [{ protocol: 'UDP', port: 5000, endPort: 5010 }] },
    ],
  });
  const out = rules([p]);
  assert.equal(verdict(out, toServer(other, 8080)), 'allowed', 'named port http → 8080');
  assert.equal(verdict(out, toServer(other, 8081)), 'dropped');
  assert.equal(verdict(out, { ...toServer(other, 5005), proto: 'udp' }), 'allowed');
  assert.equal(verdict(out, { ...toServer(other, 5011), proto: 'udp' }), 'dropped');
  assert.equal(verdict(out, toServer(other, 5005)), 'dropped', 'TCP is not UDP');
  // A named port the pod lacks allows nothing.
  const missing = policy('prod', 'missing', { podSelector: {}, ingress: [{ ports: [{ port: 'metrics' }] }] });
  assert.equal(verdict(rules([missing]), toServer(other, 8080)), 'dropped');
});

test('egress: ipBlock with except blocks that address; a DNS port rule keeps DNS open', () => {
  const p = policy('prod', 'egress', {
    podSelector: { matchLabels: { app: 'server' } },
    policyTypes: ['Egress'],
    egress: [
      { to: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.2.21/32'] } }] },
      {
        ports: [
          { protocol: 'UDP', port: 53 },
          { protocol: 'TCP', port: 53 },
        ],
      },
    ],
  });
  const out = rules([p]);
  const from = (dst: string, dport: number, proto: Packet['proto'] = 'tcp'): Packet => ({
    src: server.ip,
    dst,
    dport,
    proto,
  });
  assert.equal(verdict(out, from(client.ip, 80)), 'allowed');
  assert.equal(verdict(out, from(other.ip, 80)), 'dropped', 'the excepted address');
  assert.equal(verdict(out, from('192.0.2.1', 80)), 'dropped', 'outside the block');
  assert.equal(verdict(out, from('10.244.1.1', 53, 'udp')), 'allowed', 'DNS to the node');
  assert.equal(verdict(out, from('192.0.2.1', 53, 'tcp')), 'allowed');
  // Ingress is not isolated by an Egress-only policy.
  assert.equal(verdict(out, toServer(other)), 'allowed');
});

test('egress named ports resolve against the destination pod', () => {
  const p = policy('prod', 'to-http', {
    podSelector: {},
    policyTypes: ['Egress'],
    egress: [{ to: [{ podSelector: { matchLabels: { app: 'client' } } }], ports: [{ port: 'http' }] }],
  });
  const out = rules([p]);
  assert.equal(verdict(out, { src: server.ip, dst: client.ip, dport: 8080 }), 'allowed');
  assert.equal(verdict(out, { src: server.ip, dst: client.ip, dport: 80 }), 'dropped');
  assert.equal(verdict(out, { src: server.ip, dst: other.ip, dport: 8080 }), 'dropped');
});

test('an empty ingress rule allows everything; a policy of another namespace does not apply', () => {
  const deny = policy('prod', 'deny', { podSelector: {}, policyTypes: ['Ingress'] });
  const all = policy('prod', 'all', { podSelector: {}, ingress: [{}] });
  assert.equal(verdict(rules([deny, all]), toServer(other)), 'allowed');
  const elsewhere = policy('ops', 'deny', { podSelector: {}, policyTypes: ['Ingress'] });
  assert.equal(verdict(rules([elsewhere]), toServer(other)), 'allowed');
});

test('with the pod bridge given, local pods are matched on it only', () => {
  const deny = policy('prod', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  const out = rules([deny], { podInterface: 'coxp1234abcd' });
  assert.match(out, /^-A CXT-NP-FWD -i coxp1234abcd -s 10\.244\.1\.10\/32 -j CXT-NPE-/m);
  assert.match(out, /^-A CXT-NP-FWD -o coxp1234abcd -d 10\.244\.1\.10\/32 -j CXT-NPI-/m);
  assert.ok(!rules([deny], { podInterface: 'x -j ACCEPT' }).includes('ACCEPT'));
});

test('stale chains of the prefix are deleted, others untouched; output is stable', () => {
  const deny = policy('prod', 'deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  const out = rules([deny], { existingChains: ['CXT-NPI-AAAAAAAAAAAA', 'CXT-NP-FWD', 'CXT-SVC-X', 'CXT-NET-FORWARD'] });
  assert.ok(out.includes(':CXT-NPI-AAAAAAAAAAAA - [0:0]') && out.includes('-X CXT-NPI-AAAAAAAAAAAA'));
  assert.ok(!out.includes('CXT-SVC-X') && !out.includes('CXT-NET-FORWARD'));
  assert.ok(!/-j ACCEPT/.test(out), 'never accepts: allowed packets return to the host chains');
  assert.equal(
    out,
    rules([deny], { existingChains: ['CXT-NPI-AAAAAAAAAAAA', 'CXT-NP-FWD', 'CXT-SVC-X', 'CXT-NET-FORWARD'] }),
  );
  for (const line of out.split('\n').filter((l) => l.startsWith(':')))
    assert.ok(line.split(' ')[0].length - 1 <= 28, line);
});

test('hostile input: malformed selectors and CIDRs match nothing instead of throwing', () => {
  const bad = policy('prod', 'bad', {
    podSelector: {},
    ingress: [
      { from: [{ podSelector: { matchExpressions: [{ key: 'app', operator: 'In', values: [] }] } }] },
      { from: [{ ipBlock: { cidr: 'not-a-cidr' } }] },
      { from: [{ ipBlock: { cidr: '10.0.0.0/8 -j ACCEPT', except: ['10.1.0.0/16 -j ACCEPT'] } }] },
    ],
  });
  assert.equal(verdict(rules([bad]), toServer(client)), 'dropped');
  assert.ok(!rules([bad]).includes('ACCEPT'), 'text from a policy never reaches a rule');
});
