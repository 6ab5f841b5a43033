import assert from 'node:assert/strict';
import { test } from 'node:test';
import { EtcdKeys, prefixEnd } from './keys.js';

test('prefixEnd: the first key after every key with the prefix', () => {
  assert.deepEqual(prefixEnd(Buffer.from('/a/')), Buffer.from('/a0'));
  assert.deepEqual(prefixEnd(Buffer.from([0x61, 0xff, 0xff])), Buffer.from([0x62]));
  assert.deepEqual(prefixEnd(Buffer.from([0xff])), Buffer.from([0]), 'all 0xff: no end');
  assert.deepEqual(prefixEnd(Buffer.alloc(0)), Buffer.from([0]), 'empty: the whole keyspace');
});

test('EtcdKeys: the root is replaced by the prefix, both ways', () => {
  const keys = new EtcdKeys('/registry', '/coxswain');
  assert.equal(keys.toEtcd('/registry/core/pods/ns/p').toString(), '/coxswain/core/pods/ns/p');
  assert.equal(keys.fromEtcd(Buffer.from('/coxswain/core/pods/ns/p')), '/registry/core/pods/ns/p');
  assert.equal(keys.fromEtcd(Buffer.from('/other/x')), undefined, 'not one of ours');
  const all = keys.range('/');
  assert.equal(all.start.toString(), '/coxswain/');
  assert.equal(all.end.toString(), '/coxswain0');
  assert.equal(keys.fromEtcd(Buffer.from('/coxswain2/core/pods/ns/p')), undefined, 'another cluster');
  const pods = keys.range('/registry/core/pods/');
  assert.equal(pods.start.toString(), '/coxswain/core/pods/');
  assert.equal(pods.end.toString(), '/coxswain/core/pods0');
});

test('EtcdKeys: a key outside the root is refused, not written elsewhere', () => {
  const keys = new EtcdKeys('/registry', '/registry');
  assert.throws(() => keys.toEtcd('/elsewhere/x'), /outside the store's root/);
  assert.throws(() => keys.toEtcd('/registryx/y'), /outside the store's root/);
  assert.equal(new EtcdKeys('', '/t1').toEtcd('/r/cm/ns/a').toString(), '/t1/r/cm/ns/a');
});
