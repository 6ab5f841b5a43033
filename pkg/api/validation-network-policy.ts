// NetworkPolicy validation with Kubernetes' field paths and messages
// (pkg/apis/networking/validation): label selectors, peers (exactly one kind unless
// pod and namespace selectors are combined; ipBlock alone), ports (protocol, port number or
// name, endPort only after a numeric port and not below it), ipBlock CIDRs with excepts that are
// strict subsets, and at most the two policyTypes Ingress and Egress.

import { BlockList, isIP } from 'node:net';
import type { StatusCause } from '../errors/index.js';
import { isObject } from './meta.js';
import { labelKeyProblem, labelValueProblem } from './selectors.js';

const PROTOCOLS = ['TCP', 'UDP', 'SCTP'];
const POLICY_TYPES = ['Ingress', 'Egress'];

function cause(reason: string, field: string, message: string): StatusCause {
  return { reason, field, message };
}

function invalid(field: string, value: unknown, why: string): StatusCause {
  return cause('FieldValueInvalid', field, `Invalid value: ${JSON.stringify(value)}: ${why}`);
}

function required(field: string, why = ''): StatusCause {
  return cause('FieldValueRequired', field, why === '' ? 'Required value' : `Required value: ${why}`);
}

function notSupported(field: string, value: unknown, supported: string[]): StatusCause {
  const list = supported.map((s) => JSON.stringify(s)).join(', ');
  return cause(
    'FieldValueNotSupported',
    field,
    `Unsupported value: ${JSON.stringify(value)}: supported values: ${list}`,
  );
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** Kubernetes' ValidateLabelSelector: operators, values per operator, keys and values. */
export function labelSelectorCauses(selector: unknown, field: string): StatusCause[] {
  if (selector === undefined || selector === null) return [];
  if (!isObject(selector)) return [invalid(field, selector, 'must be an object')];
  const causes: StatusCause[] = [];
  const labels = selector['matchLabels'];
  if (isObject(labels)) {
    for (const [key, value] of Object.entries(labels)) {
      const keyProblem = labelKeyProblem(key);
      if (keyProblem !== undefined) causes.push(invalid(`${field}.matchLabels`, key, keyProblem));
      const valueProblem = typeof value === 'string' ? labelValueProblem(value) : 'must be a string';
      if (valueProblem !== undefined) causes.push(invalid(`${field}.matchLabels`, value, valueProblem));
    }
  }
  list(selector['matchExpressions']).forEach((expr, i) => {
    const at = `${field}.matchExpressions[${i}]`;
    if (!isObject(expr)) {
      causes.push(invalid(at, expr, 'must be an object'));
      return;
    }
    const operator = expr['operator'];
    const values = list(expr['values']);
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0)
        causes.push(required(`${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0)
        causes.push(
          cause(
            'FieldValueForbidden',
            `${at}.values`,
            "Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
          ),
        );
    } else causes.push(invalid(`${at}.operator`, operator, 'not a valid selector operator'));
    const key = expr['key'];
    const keyProblem = typeof key === 'string' ? labelKeyProblem(key) : 'must be a string';
    if (keyProblem !== undefined) causes.push(invalid(`${at}.key`, key, keyProblem));
    values.forEach((v, j) => {
      const problem = typeof v === 'string' ? labelValueProblem(v) : 'must be a string';
      if (problem !== undefined) causes.push(invalid(`${at}.values[${j}]`, v, problem));
    });
  });
  return causes;
}

/** Kubernetes' IsValidPortName: an IANA service name. */
export function portNameProblem(name: string): string | undefined {
  if (name.length > 15) return 'must be no more than 15 characters';
  if (!/^[-a-z0-9]+$/.test(name)) return 'must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)';
  if (!/[a-z]/.test(name)) return 'must contain at least one letter (a-z)';
  if (name.startsWith('-') || name.endsWith('-')) return 'must not begin or end with a hyphen';
  if (name.includes('--')) return 'must not contain consecutive hyphens';
  return undefined;
}

function isPortNumber(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && n <= 65535;
}

const PORT_RANGE = 'must be between 1 and 65535, inclusive';

function portCauses(port: unknown, field: string): StatusCause[] {
  if (!isObject(port)) return [invalid(field, port, 'must be an object')];
  const causes: StatusCause[] = [];
  const protocol = port['protocol'];
  if (protocol !== undefined && (typeof protocol !== 'string' || !PROTOCOLS.includes(protocol)))
    causes.push(notSupported(`${field}.protocol`, protocol, PROTOCOLS));
  const number = port['port'];
  const endPort = port['endPort'];
  if (typeof number === 'number') {
    if (!isPortNumber(number)) causes.push(invalid(`${field}.port`, number, PORT_RANGE));
    if (typeof endPort === 'number') {
      if (endPort < number)
        causes.push(invalid(`${field}.endPort`, endPort, 'must be greater than or equal to `port`'));
      if (!isPortNumber(endPort)) causes.push(invalid(`${field}.endPort`, endPort, PORT_RANGE));
    }
  } else if (typeof number === 'string') {
    if (endPort !== undefined)
      causes.push(invalid(`${field}.endPort`, endPort, 'may not be specified when `port` is non-numeric'));
    const problem = portNameProblem(number);
    if (problem !== undefined) causes.push(invalid(`${field}.port`, number, problem));
  } else if (endPort !== undefined) {
    causes.push(invalid(`${field}.endPort`, endPort, 'may not be specified when `port` is not specified'));
  }
  return causes;
}

const CIDR_FORMAT = 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)';

interface Block {
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** An IPv4 or IPv6 CIDR (host bits may be set, as the legacy field allows); undefined when malformed. */
function parseBlock(text: unknown): Block | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(text);
  const version = m?.[1] === undefined ? 0 : isIP(m[1]);
  const prefix = Number(m?.[2]);
  if (m?.[1] === undefined || version === 0 || prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address: m[1], prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Whether `inner` is a strict subset of `outer` (same family, longer prefix, inside it). */
function strictSubset(inner: Block, outer: Block): boolean {
  if (inner.family !== outer.family || inner.prefix <= outer.prefix) return false;
  const list = new BlockList();
  list.addSubnet(outer.address, outer.prefix, outer.family);
  return list.check(inner.address, inner.family);
}

/** Kubernetes' ValidateIPBlock: a CIDR, and excepts that are strict subsets of it. */
function ipBlockCauses(block: unknown, field: string): StatusCause[] {
  if (!isObject(block)) return [invalid(field, block, 'must be an object')];
  const text = block['cidr'];
  if (typeof text !== 'string' || text === '') return [required(`${field}.cidr`)];
  const outer = parseBlock(text);
  if (outer === undefined) return [invalid(`${field}.cidr`, text, CIDR_FORMAT)];
  const causes: StatusCause[] = [];
  list(block['except']).forEach((except, i) => {
    const at = `${field}.except[${i}]`;
    const inner = parseBlock(except);
    if (inner === undefined) causes.push(invalid(at, except, CIDR_FORMAT));
    else if (!strictSubset(inner, outer)) causes.push(invalid(at, except, 'must be a strict subset of `cidr`'));
  });
  return causes;
}

function peerCauses(peer: unknown, field: string): StatusCause[] {
  if (!isObject(peer)) return [invalid(field, peer, 'must be an object')];
  const causes: StatusCause[] = [];
  let kinds = 0;
  if (peer['podSelector'] !== undefined && peer['podSelector'] !== null) {
    kinds++;
    causes.push(...labelSelectorCauses(peer['podSelector'], `${field}.podSelector`));
  }
  if (peer['namespaceSelector'] !== undefined && peer['namespaceSelector'] !== null) {
    kinds++;
    causes.push(...labelSelectorCauses(peer['namespaceSelector'], `${field}.namespaceSelector`));
  }
  const hasBlock = peer['ipBlock'] !== undefined && peer['ipBlock'] !== null;
  if (hasBlock) {
    kinds++;
    causes.push(...ipBlockCauses(peer['ipBlock'], `${field}.ipBlock`));
  }
  if (kinds === 0) causes.push(required(field, 'must specify a peer'));
  else if (kinds > 1 && hasBlock)
    causes.push(cause('FieldValueForbidden', field, 'Forbidden: may not specify both ipBlock and another peer'));
  return causes;
}

function rulesCauses(spec: Record<string, unknown>, direction: 'ingress' | 'egress'): StatusCause[] {
  const peersKey = direction === 'ingress' ? 'from' : 'to';
  const causes: StatusCause[] = [];
  list(spec[direction]).forEach((rule, i) => {
    const at = `spec.${direction}[${i}]`;
    if (!isObject(rule)) {
      causes.push(invalid(at, rule, 'must be an object'));
      return;
    }
    list(rule['ports']).forEach((port, j) => causes.push(...portCauses(port, `${at}.ports[${j}]`)));
    list(rule[peersKey]).forEach((peer, j) => causes.push(...peerCauses(peer, `${at}.${peersKey}[${j}]`)));
  });
  return causes;
}

/** Every problem of a NetworkPolicy's spec (an empty list: valid). */
export function networkPolicyCauses(spec: unknown): StatusCause[] {
  if (!isObject(spec)) return [required('spec')];
  const causes = [
    ...labelSelectorCauses(spec['podSelector'], 'spec.podSelector'),
    ...rulesCauses(spec, 'ingress'),
    ...rulesCauses(spec, 'egress'),
  ];
  const types = list(spec['policyTypes']);
  if (types.length > POLICY_TYPES.length) {
    causes.push(invalid('spec.policyTypes', types, 'may not specify more than two policyTypes'));
    return causes;
  }
  types.forEach((t, i) => {
    if (typeof t !== 'string' || !POLICY_TYPES.includes(t))
      causes.push(notSupported(`spec.policyTypes[${i}]`, t, POLICY_TYPES));
  });
  return causes;
}
