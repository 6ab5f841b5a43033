// The address the apiserver tells the cluster to reach it at: the `kubernetes` Service's
// endpoint (what pods connect to through 10.96.0.1), cluster-info's server URL and
// discovery. Like kube-apiserver without --advertise-address: the bind address when it is
// a specific one, else the IPv4 address of the interface that holds the default route.
// Loopback is the last resort, because pods cannot reach the host's loopback.

import { readFileSync } from 'node:fs';
import { networkInterfaces, type NetworkInterfaceInfo } from 'node:os';

const UNSPECIFIED = new Set(['', '0.0.0.0', '::']);

/** The interface of the IPv4 default route, from /proc/net/route (Linux), if there is one. */
export function defaultRouteInterface(routeTable: string): string | undefined {
  for (const line of routeTable.split('\n').slice(1)) {
    const [iface, destination, , , , , , mask] = line.trim().split(/\s+/);
    if (iface !== undefined && destination === '00000000' && mask === '00000000') return iface;
  }
  return undefined;
}

function readRouteTable(): string {
  try {
    return readFileSync('/proc/net/route', 'utf8');
  } catch {
    return '';
  }
}

function firstIPv4(addrs: NetworkInterfaceInfo[] | undefined): string | undefined {
  return addrs?.find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

export interface HostAddresses {
  routeTable: string;
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>;
}

/** The address to advertise when --advertise-address is not given. */
export function chooseAdvertiseAddress(
  bindAddress: string,
  host: HostAddresses = { routeTable: readRouteTable(), interfaces: networkInterfaces() },
): string {
  if (!UNSPECIFIED.has(bindAddress)) return bindAddress;
  const iface = defaultRouteInterface(host.routeTable);
  const viaDefaultRoute = iface === undefined ? undefined : firstIPv4(host.interfaces[iface]);
  if (viaDefaultRoute !== undefined) return viaDefaultRoute;
  // No default route (an isolated machine): a non-loopback address, whichever, beats loopback.
  for (const addrs of Object.values(host.interfaces)) {
    const address = firstIPv4(addrs);
    if (address !== undefined) return address;
  }
  return '127.0.0.1';
}
