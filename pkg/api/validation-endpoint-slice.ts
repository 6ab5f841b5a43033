// EndpointSlice validation with Kubernetes' limits and messages: an addressType of IPv4, IPv6
// or FQDN (immutable), at most 1000 endpoints of 1 to 100 addresses each, at most 20000 ports
// with unique names, and addresses of the slice's type.

import { isIP } from 'node:net';
import type { StatusCause } from '../errors/index.js';
import { isObject } from './meta.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const PROTOCOLS = ['SCTP', 'TCP', 'UDP'];
const MAX_ENDPOINTS = 1000;
const MAX_ADDRESSES = 100;
const MAX_PORTS = 20000;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function cause(reason: string, field: string, message: string): StatusCause {
  return { reason, field, message };
}

function invalid(field: string, value: unknown, why: string): StatusCause {
  return cause('FieldValueInvalid', field, `Invalid value: ${JSON.stringify(value)}: ${why}`);
}

function tooMany(field: string, count: number, max: number): StatusCause {
  return cause('FieldValueTooMany', field, `Too many: ${count}: must have at most ${max} items`);
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function addressCauses(addressType: unknown, address: unknown, field: string): StatusCause[] {
  if (typeof address !== 'string') return [invalid(field, address, 'must be a string')];
  if (addressType === 'IPv4' && isIP(address) !== 4) return [invalid(field, address, 'must be a valid IPv4 address')];
  if (addressType === 'IPv6' && isIP(address) !== 6) return [invalid(field, address, 'must be a valid IPv6 address')];
  if (addressType === 'FQDN' && (address.length > 253 || !DNS1123_SUBDOMAIN.test(address)))
    return [invalid(field, address, 'must be a valid DNS subdomain')];
  return [];
}

function endpointCauses(addressType: unknown, endpoint: unknown, field: string): StatusCause[] {
  if (!isObject(endpoint)) return [invalid(field, endpoint, 'must be an object')];
  const causes: StatusCause[] = [];
  const addresses = list(endpoint['addresses']);
  if (addresses.length === 0)
    causes.push(cause('FieldValueRequired', `${field}.addresses`, 'Required value: must contain at least 1 address'));
  else if (addresses.length > MAX_ADDRESSES)
    causes.push(tooMany(`${field}.addresses`, addresses.length, MAX_ADDRESSES));
  else addresses.forEach((a, i) => causes.push(...addressCauses(addressType, a, `${field}.addresses[${i}]`)));
  const hostname = endpoint['hostname'];
  if (typeof hostname === 'string' && (hostname.length > 63 || !DNS1123_LABEL.test(hostname)))
    causes.push(
      invalid(
        `${field}.hostname`,
        hostname,
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
      ),
    );
  const nodeName = endpoint['nodeName'];
  if (typeof nodeName === 'string' && (nodeName.length > 253 || !DNS1123_SUBDOMAIN.test(nodeName)))
    causes.push(
      invalid(
        `${field}.nodeName`,
        nodeName,
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'",
      ),
    );
  return causes;
}

function portCauses(ports: unknown[]): StatusCause[] {
  if (ports.length > MAX_PORTS) return [tooMany('ports', ports.length, MAX_PORTS)];
  const causes: StatusCause[] = [];
  const names = new Set<string>();
  ports.forEach((port, i) => {
    const field = `ports[${i}]`;
    if (!isObject(port)) {
      causes.push(invalid(field, port, 'must be an object'));
      return;
    }
    const name = typeof port['name'] === 'string' ? port['name'] : '';
    if (name !== '' && (name.length > 63 || !DNS1123_LABEL.test(name)))
      causes.push(
        invalid(
          `${field}.name`,
          name,
          "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-'",
        ),
      );
    if (names.has(name))
      causes.push(cause('FieldValueDuplicate', `${field}.name`, `Duplicate value: ${JSON.stringify(name)}`));
    names.add(name);
    const protocol = port['protocol'];
    if (protocol === undefined) causes.push(cause('FieldValueRequired', `${field}.protocol`, 'Required value'));
    else if (typeof protocol !== 'string' || !PROTOCOLS.includes(protocol))
      causes.push(
        cause(
          'FieldValueNotSupported',
          `${field}.protocol`,
          `Unsupported value: ${JSON.stringify(protocol)}: supported values: "SCTP", "TCP", "UDP"`,
        ),
      );
    const number = port['port'];
    if (typeof number === 'number' && (number < 1 || number > 65535))
      causes.push(invalid(`${field}.port`, number, 'must be between 1 and 65535, inclusive'));
  });
  return causes;
}

export function endpointSliceCauses(slice: Record<string, unknown>): StatusCause[] {
  const causes: StatusCause[] = [];
  const addressType = slice['addressType'];
  if (addressType === undefined || addressType === '')
    causes.push(cause('FieldValueRequired', 'addressType', 'Required value'));
  else if (typeof addressType !== 'string' || !ADDRESS_TYPES.includes(addressType))
    causes.push(
      cause(
        'FieldValueNotSupported',
        'addressType',
        `Unsupported value: ${JSON.stringify(addressType)}: supported values: "FQDN", "IPv4", "IPv6"`,
      ),
    );
  const endpoints = list(slice['endpoints']);
  // Past the limit nothing else is looked at: the count alone refuses it, and cheaply.
  if (endpoints.length > MAX_ENDPOINTS) return [...causes, tooMany('endpoints', endpoints.length, MAX_ENDPOINTS)];
  endpoints.forEach((e, i) => causes.push(...endpointCauses(addressType, e, `endpoints[${i}]`)));
  causes.push(...portCauses(list(slice['ports'])));
  return causes;
}
