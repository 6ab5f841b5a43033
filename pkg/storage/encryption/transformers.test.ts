import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EncryptionConfigError, parseEncryptionConfiguration } from './config.js';
import { describeStoredValue } from './providers.js';
import { buildResourceTransformers } from './transformers.js';
import { PLAIN, SECRETS, STORAGE_KEY, b64, config, key, refused, secretsTransformer } from './fixtures.js';

describe('rotation and staleness', () => {
  it('reads old data after rotation (new key first, old key second) and reports it stale', () => {
    const before = secretsTransformer([['aescbc', 'key1', key(1)], 'identity']);
    const old = before.toStorage(PLAIN, STORAGE_KEY);
    const after = secretsTransformer([['aescbc', 'key2', key(2)], ['aescbc', 'key1', key(1)], 'identity']);
    assert.deepEqual(after.fromStorage(old, STORAGE_KEY), { data: PLAIN, stale: true });
    const rewritten = after.toStorage(PLAIN, STORAGE_KEY);
    assert.equal(describeStoredValue(rewritten).keyName, 'key2');
    assert.deepEqual(after.fromStorage(rewritten, STORAGE_KEY), { data: PLAIN, stale: false });
  });

  it('within one provider, a later key reads and reports stale; the first key writes', () => {
    const cfg = parseEncryptionConfiguration(
      JSON.stringify({
        apiVersion: 'apiserver.config.k8s.io/v1',
        kind: 'EncryptionConfiguration',
        resources: [
          {
            resources: ['secrets'],
            providers: [
              {
                secretbox: {
                  keys: [
                    { name: 'new', secret: b64(key(2)) },
                    { name: 'old', secret: b64(key(1)) },
                  ],
                },
              },
            ],
          },
        ],
      }),
    );
    const old = secretsTransformer([['secretbox', 'old', key(1)]]).toStorage(PLAIN, STORAGE_KEY);
    const t = buildResourceTransformers(cfg).forResource(SECRETS);
    assert.deepEqual(t.fromStorage(old, STORAGE_KEY), { data: PLAIN, stale: true });
    assert.equal(describeStoredValue(t.toStorage(PLAIN, STORAGE_KEY)).keyName, 'new');
  });

  it('moving between provider types: old aescbc data reads under a secretbox-first config', () => {
    const old = secretsTransformer([['aescbc', 'k1', key(1)]]).toStorage(PLAIN, STORAGE_KEY);
    const t = secretsTransformer([
      ['secretbox', 'k2', key(2)],
      ['aescbc', 'k1', key(1)],
    ]);
    assert.deepEqual(t.fromStorage(old, STORAGE_KEY), { data: PLAIN, stale: true });
  });

  it('plaintext written before encryption reads while identity is listed, and is stale', () => {
    const t = secretsTransformer([['aesgcm', 'k', key(1)], 'identity']);
    assert.deepEqual(t.fromStorage(PLAIN, STORAGE_KEY), { data: PLAIN, stale: true });
  });

  it('plaintext is refused once identity is removed', () => {
    refused(
      () => secretsTransformer([['aesgcm', 'k', key(1)]]).fromStorage(PLAIN, STORAGE_KEY),
      /no matching prefix found: the value is not encrypted/,
    );
  });

  it('decrypting away (identity first) still reads encrypted data, stale; plaintext is fresh', () => {
    const encrypted = secretsTransformer([['secretbox', 'k', key(1)]]).toStorage(PLAIN, STORAGE_KEY);
    const t = secretsTransformer(['identity', ['secretbox', 'k', key(1)]]);
    assert.deepEqual(t.fromStorage(encrypted, STORAGE_KEY), { data: PLAIN, stale: true });
    assert.deepEqual(t.fromStorage(PLAIN, STORAGE_KEY), { data: PLAIN, stale: false });
    assert.deepEqual(t.toStorage(PLAIN, STORAGE_KEY), PLAIN);
  });
});

describe('values the config no longer names', () => {
  it('a key missing from the config is named in the error', () => {
    const old = secretsTransformer([['aescbc', 'key0', key(1)]]).toStorage(PLAIN, STORAGE_KEY);
    refused(
      () => secretsTransformer([['aescbc', 'key2', key(2)], 'identity']).fromStorage(old, STORAGE_KEY),
      /no matching key was found for the provided AES transformer \(the value names key "key0"; configured: key2\)/,
    );
    const oldBox = secretsTransformer([['secretbox', 'gone', key(1)]]).toStorage(PLAIN, STORAGE_KEY);
    refused(
      () => secretsTransformer([['secretbox', 'b', key(2)]]).fromStorage(oldBox, STORAGE_KEY),
      /Secretbox transformer .*"gone"/,
    );
  });

  it('a provider missing from the config is named in the error', () => {
    const old = secretsTransformer([['aesgcm', 'g', key(1)]]).toStorage(PLAIN, STORAGE_KEY);
    refused(
      () => secretsTransformer([['aescbc', 'c', key(1)], 'identity']).fromStorage(old, STORAGE_KEY),
      /no matching prefix found: the value was written by aesgcm key "g"/,
    );
    refused(
      () => secretsTransformer(['identity']).fromStorage(Buffer.from('k8s:enc:kms:v2:vault:xyz'), STORAGE_KEY),
      /written by kms key "vault"/,
    );
  });
});

const multi = parseEncryptionConfiguration(`
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources: [secrets, deployments.apps]
    providers: [{ aescbc: { keys: [{ name: exact, secret: ${b64(key(1))} }] } }]
  - resources: ['*.apps']
    providers: [{ aesgcm: { keys: [{ name: apps, secret: ${b64(key(2))} }] } }]
  - resources: ['*.']
    providers: [{ secretbox: { keys: [{ name: core, secret: ${b64(key(3))} }] } }]
  - resources: ['*.*']
    providers: [{ secretbox: { keys: [{ name: all, secret: ${b64(key(4))} }] } }, { identity: {} }]
`);
const transformers = buildResourceTransformers(multi);
const writtenWith = (group: string, resource: string): string | undefined =>
  describeStoredValue(transformers.forResource({ group, resource }).toStorage(PLAIN, STORAGE_KEY)).keyName;

describe('resources and wildcards', () => {
  it('the exact resource wins, then *.<group>, then *.*', () => {
    assert.equal(writtenWith('', 'secrets'), 'exact');
    assert.equal(writtenWith('apps', 'deployments'), 'exact');
    assert.equal(writtenWith('apps', 'statefulsets'), 'apps');
    assert.equal(writtenWith('', 'configmaps'), 'core');
    assert.equal(writtenWith('batch', 'jobs'), 'all');
    assert.equal(writtenWith('example.com', 'widgets'), 'all');
  });

  it('a resource no rule covers is stored plain, and encrypted bytes are refused for it', () => {
    const t = buildResourceTransformers(config([['aescbc', 'k', key(1)]])).forResource({
      group: '',
      resource: 'configmaps',
    });
    assert.deepEqual(t.toStorage(PLAIN, STORAGE_KEY), PLAIN);
    assert.deepEqual(t.fromStorage(PLAIN, STORAGE_KEY), { data: PLAIN, stale: false });
    refused(
      () => t.fromStorage(Buffer.from('k8s:enc:aescbc:v1:k:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx'), STORAGE_KEY),
      /identity transformer tried to read encrypted data/,
    );
  });

  it('refuses rules masked by an earlier wildcard, as kube-apiserver does', () => {
    const masked = (first: string, second: string): string => {
      const text = JSON.stringify({
        apiVersion: 'apiserver.config.k8s.io/v1',
        kind: 'EncryptionConfiguration',
        resources: [
          { resources: [first], providers: [{ identity: {} }] },
          { resources: [second], providers: [{ identity: {} }] },
        ],
      });
      try {
        buildResourceTransformers(parseEncryptionConfiguration(text));
      } catch (err) {
        assert.ok(err instanceof EncryptionConfigError);
        return err.message;
      }
      return assert.fail(`${second} after ${first} was accepted`);
    };
    assert.match(
      masked('*.', 'secrets'),
      /resources\[1\]\.resources\[0\]: resource "secrets" is masked by earlier rule "\*\."/,
    );
    assert.match(
      masked('*.apps', 'deployments.apps'),
      /resource "deployments\.apps" is masked by earlier rule "\*\.apps"/,
    );
    assert.match(masked('*.*', 'secrets'), /masked by earlier rule "\*\.\*"/);
    assert.match(masked('*.', '*.'), /resource "\*\." is masked by earlier rule "\*\."/);
  });

  it('a resource named in two entries writes with the first and reads with both', () => {
    const text = JSON.stringify({
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'EncryptionConfiguration',
      resources: [
        { resources: ['secrets'], providers: [{ secretbox: { keys: [{ name: 'first', secret: b64(key(1)) }] } }] },
        { resources: ['secrets'], providers: [{ aescbc: { keys: [{ name: 'second', secret: b64(key(2)) }] } }] },
      ],
    });
    const t = buildResourceTransformers(parseEncryptionConfiguration(text)).forResource(SECRETS);
    assert.equal(describeStoredValue(t.toStorage(PLAIN, STORAGE_KEY)).keyName, 'first');
    const old = secretsTransformer([['aescbc', 'second', key(2)]]).toStorage(PLAIN, STORAGE_KEY);
    assert.deepEqual(t.fromStorage(old, STORAGE_KEY), { data: PLAIN, stale: true });
  });
});

describe('describeStoredValue', () => {
  it('names provider and key, and nothing unprintable', () => {
    assert.deepEqual(describeStoredValue(Buffer.from('k8s:enc:aescbc:v1:key1:....')), {
      provider: 'aescbc',
      keyName: 'key1',
    });
    assert.deepEqual(describeStoredValue(PLAIN), { provider: 'identity' });
    assert.deepEqual(describeStoredValue(Buffer.from('k8s:enc:aescbc:v1:\u0000evil:')), { provider: 'unknown' });
    assert.deepEqual(describeStoredValue(Buffer.from('k8s:enc:')), { provider: 'unknown' });
  });
});
