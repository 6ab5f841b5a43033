// Ingress and IngressClass validation with Kubernetes' field paths and messages
// (pkg/apis/networking/validation): pathType required and one of Exact, Prefix,
// ImplementationSpecific; Exact and Prefix paths absolute and normalised; hosts DNS names with
// an optional leading `*.`; a backend is a service or a resource, never both; TLS hosts alike.

import { isIP } from 'node:net';
import type { StatusCause } from '../errors/index.js';
import { isObject } from './meta.js';

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PORT_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_SUFFIXES = ['/..', '/.'];
/** Bounds the work one hostile object can cause (Kubernetes has no such limit; the body limit does it there). */
const MAX_ITEMS = 1000;

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const WILDCARD_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character (e.g. '*.example.com', regex used for validation is '\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

function invalid(field: string, value: unknown, why: string): StatusCause {
  return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${JSON.stringify(value)}: ${why}` };
}

function required(field: string, why: string): StatusCause {
  return { reason: 'FieldValueRequired', field, message: why === '' ? 'Required value' : `Required value: ${why}` };
}

function notSupported(field: string, value: unknown, supported: string[]): StatusCause {
  const values = supported.map((v) => JSON.stringify(v)).join(', ');
  return {
    reason: 'FieldValueNotSupported',
    field,
    message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${values}`,
  };
}

function items(v: unknown, field: string, causes: StatusCause[]): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    causes.push(invalid(field, v, 'must be a list'));
    return [];
  }
  if (v.length > MAX_ITEMS) {
    causes.push({
      reason: 'FieldValueTooMany',
      field,
      message: `Too many: ${v.length}: must have at most ${MAX_ITEMS} items`,
    });
    return [];
  }
  return v;
}

function isSubdomain(s: string): boolean {
  return s.length <= 253 && DNS1123_SUBDOMAIN.test(s);
}

/** A rule's or a TLS entry's host: a DNS subdomain, or `*.` and one; never an IP address. */
export function hostCauses(host: unknown, field: string): StatusCause[] {
  if (typeof host !== 'string') return [invalid(field, host, 'must be a string')];
  if (isIP(host) !== 0) return [invalid(field, host, 'must be a DNS name, not an IP address')];
  if (host.includes('*')) {
    const rest = host.startsWith('*.') ? host.slice(2) : '';
    return rest !== '' && isSubdomain(rest) && !rest.includes('*') ? [] : [invalid(field, host, WILDCARD_MSG)];
  }
  return isSubdomain(host) ? [] : [invalid(field, host, SUBDOMAIN_MSG)];
}

function serviceBackendCauses(service: Record<string, unknown>, field: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const name = service['name'];
  if (typeof name !== 'string' || name === '') causes.push(required(`${field}.service.name`, ''));
  else if (name.length > 63 || !DNS1123_LABEL.test(name))
    causes.push(
      invalid(
        `${field}.service.name`,
        name,
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
      ),
    );
  const port = isObject(service['port']) ? service['port'] : {};
  const portName = typeof port['name'] === 'string' ? port['name'] : '';
  const portNumber = port['number'] ?? 0;
  if (portName !== '' && portNumber !== 0) causes.push(invalid(field, '', 'cannot set both port name & port number'));
  else if (portName !== '') {
    if (portName.length > 15 || !PORT_NAME.test(portName) || !/[a-z]/.test(portName))
      causes.push(invalid(`${field}.service.port.name`, portName, 'must be an IANA_SVC_NAME'));
  } else if (portNumber !== 0) {
    if (typeof portNumber !== 'number' || !Number.isInteger(portNumber) || portNumber < 1 || portNumber > 65535)
      causes.push(invalid(`${field}.service.port.number`, portNumber, 'must be between 1 and 65535, inclusive'));
  } else causes.push(required(`${field}.service.port`, 'port name or number is required'));
  return causes;
}

/** A backend names a service (with a port by name or number) or a typed resource, not both. */
export function backendCauses(backend: unknown, field: string): StatusCause[] {
  const b = isObject(backend) ? backend : {};
  const service = b['service'];
  const resource = b['resource'];
  if (service !== undefined && resource !== undefined)
    return [invalid(field, '', 'cannot set both resource and service backends')];
  if (isObject(resource)) {
    const causes: StatusCause[] = [];
    if (typeof resource['kind'] !== 'string' || resource['kind'] === '')
      causes.push(required(`${field}.resource.kind`, ''));
    if (typeof resource['name'] !== 'string' || resource['name'] === '')
      causes.push(required(`${field}.resource.name`, ''));
    return causes;
  }
  if (isObject(service)) return serviceBackendCauses(service, field);
  return [invalid(field, '', 'resource or service backend is required')];
}

function pathCauses(path: unknown, field: string): StatusCause[] {
  if (!isObject(path)) return [invalid(field, path, 'must be an object')];
  const pathType = path['pathType'];
  const value = typeof path['path'] === 'string' ? path['path'] : '';
  if (pathType === undefined || pathType === null) return [required(`${field}.pathType`, 'pathType must be specified')];
  const causes: StatusCause[] = [];
  if (pathType === 'Exact' || pathType === 'Prefix') {
    if (!value.startsWith('/')) causes.push(invalid(`${field}.path`, value, 'must be an absolute path'));
    for (const seq of INVALID_SEQUENCES)
      if (value.includes(seq)) causes.push(invalid(`${field}.path`, value, `must not contain '${seq}'`));
    for (const suffix of INVALID_SUFFIXES)
      if (value.endsWith(suffix)) causes.push(invalid(`${field}.path`, value, `cannot end with '${suffix}'`));
  } else if (pathType === 'ImplementationSpecific') {
    if (value !== '' && !value.startsWith('/'))
      causes.push(invalid(`${field}.path`, value, 'must be an absolute path'));
  } else causes.push(notSupported(`${field}.pathType`, pathType, PATH_TYPES));
  causes.push(...backendCauses(path['backend'], `${field}.backend`));
  return causes;
}

function ruleCauses(rule: unknown, field: string): StatusCause[] {
  if (!isObject(rule)) return [invalid(field, rule, 'must be an object')];
  const causes: StatusCause[] = [];
  const host = rule['host'];
  if (host !== undefined && host !== '') causes.push(...hostCauses(host, `${field}.host`));
  const http = rule['http'];
  if (isObject(http)) {
    const paths = items(http['paths'], `${field}.http.paths`, causes);
    if (paths.length === 0 && causes.length === 0) causes.push(required(`${field}.http.paths`, ''));
    paths.forEach((p, i) => causes.push(...pathCauses(p, `${field}.http.paths[${i}]`)));
  }
  return causes;
}

/** The causes that make an Ingress invalid (empty when it is valid). */
export function ingressCauses(obj: Record<string, unknown>): StatusCause[] {
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const causes: StatusCause[] = [];
  const className = spec['ingressClassName'];
  if (className !== undefined && (typeof className !== 'string' || !isSubdomain(className)))
    causes.push(invalid('spec.ingressClassName', className, SUBDOMAIN_MSG));
  const rules = items(spec['rules'], 'spec.rules', causes);
  if (spec['defaultBackend'] !== undefined)
    causes.push(...backendCauses(spec['defaultBackend'], 'spec.defaultBackend'));
  else if (rules.length === 0)
    causes.push(invalid('spec', spec['rules'] ?? null, 'either `defaultBackend` or `rules` must be specified'));
  rules.forEach((r, i) => causes.push(...ruleCauses(r, `spec.rules[${i}]`)));
  items(spec['tls'], 'spec.tls', causes).forEach((t, i) => {
    const tls = isObject(t) ? t : {};
    items(tls['hosts'], `spec.tls[${i}].hosts`, causes).forEach((h, j) =>
      causes.push(...hostCauses(h, `spec.tls[${i}].hosts[${j}]`)),
    );
  });
  return causes;
}

/** An IngressClass names its controller, a domain-prefixed path (immutable after create). */
export function ingressClassCauses(obj: Record<string, unknown>): StatusCause[] {
  const spec = isObject(obj['spec']) ? obj['spec'] : {};
  const controller = spec['controller'];
  if (typeof controller !== 'string' || controller === '') return [required('spec.controller', '')];
  if (controller.length > 250) return [invalid('spec.controller', controller, 'must be no more than 250 characters')];
  const [domain = '', ...rest] = controller.split('/');
  if (rest.length === 0 || !isSubdomain(domain) || rest.some((part) => part === ''))
    return [invalid('spec.controller', controller, 'must be a domain-prefixed path (such as "acme.io/foo")')];
  return [];
}
