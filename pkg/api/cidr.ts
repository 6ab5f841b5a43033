// IPv4 addresses and CIDR blocks as numbers (service IPs, node pod CIDRs, routes).

import { isObject, type KubeObject } from './meta.js';

export function ipToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

export function intToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export interface Cidr {
  base: number;
  bits: number;
  size: number;
}

/** Parses `a.b.c.d/n` (the base is masked to the block); undefined when malformed. */
export function parseCidr(text: string): Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text.trim());
  if (m === null) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255) || bits > 32) return undefined;
  const size = 2 ** (32 - bits);
  const base = Math.floor(ipToInt(octets.join('.')) / size) * size;
  return { base, bits, size };
}

export function formatCidr(c: Cidr): string {
  return `${intToIp(c.base)}/${c.bits}`;
}

export function cidrContains(c: Cidr, ip: string): boolean {
  const n = ipToInt(ip);
  return n >= c.base && n < c.base + c.size;
}

/** The i-th block of `bits` inside `outer` (undefined past the end). */
export function subnet(outer: Cidr, bits: number, i: number): Cidr | undefined {
  const size = 2 ** (32 - bits);
  if (bits < outer.bits || i < 0 || (i + 1) * size > outer.size) return undefined;
  return { base: outer.base + i * size, bits, size };
}

/** A Node's pod CIDR (spec.podCIDR), undefined until node IPAM gave it one. */
export function nodePodCidr(node: KubeObject | undefined): string | undefined {
  const spec = node?.['spec'];
  const cidr = isObject(spec) ? spec['podCIDR'] : undefined;
  return typeof cidr === 'string' && cidr !== '' ? cidr : undefined;
}
