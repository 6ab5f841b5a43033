import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkInterfaceInfo } from 'node:os';
import { chooseAdvertiseAddress, defaultRouteInterface } from './advertise-address.js';

const ROUTES = [
  'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT',
  'docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
  'eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
  'eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0',
].join('\n');

function ipv4(address: string, internal = false): NetworkInterfaceInfo {
  return { address, netmask: '255.255.255.0', family: 'IPv4', mac: '00:00:00:00:00:00', internal, cidr: null };
}

const INTERFACES = {
  lo: [ipv4('127.0.0.1', true)],
  docker0: [ipv4('172.17.0.1')],
  eth0: [ipv4('192.0.2.2')],
};

test('the default route names its interface; a table without one names none', () => {
  assert.equal(defaultRouteInterface(ROUTES), 'eth0');
  assert.equal(defaultRouteInterface(ROUTES.split('\n').slice(0, 2).join('\n')), undefined);
  assert.equal(defaultRouteInterface(''), undefined);
  assert.equal(defaultRouteInterface('garbage\n\n \t\n00000000'), undefined);
});

test('a specific bind address is advertised as it is', () => {
  assert.equal(chooseAdvertiseAddress('10.1.2.3', { routeTable: ROUTES, interfaces: INTERFACES }), '10.1.2.3');
});

test('listening everywhere advertises the default route interface, never loopback when another exists', () => {
  assert.equal(chooseAdvertiseAddress('0.0.0.0', { routeTable: ROUTES, interfaces: INTERFACES }), '192.0.2.2');
  assert.equal(chooseAdvertiseAddress('::', { routeTable: '', interfaces: INTERFACES }), '172.17.0.1');
  assert.equal(
    chooseAdvertiseAddress('0.0.0.0', { routeTable: ROUTES, interfaces: { lo: INTERFACES.lo } }),
    '127.0.0.1',
  );
});
