import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EncryptionConfigError, parseEncryptionConfiguration, providerKeys } from './config.js';
import { generateEncryptionConfig, rotateEncryptionConfig } from './generate.js';
import { describeStoredValue } from './providers.js';
import { buildResourceTransformers } from './transformers.js';

const STORAGE_KEY = '/registry/core/secrets/kube-system/token';
const PLAIN = Buffer.from('{"kind":"Secret","data":{"token":"c2VjcmV0LXRva2Vu"}}');
const SECRETS = { group: '', resource: 'secrets' };

describe('generateEncryptionConfig', () => {
  it('makes a valid config: secretbox with a random 32-byte key, then identity', () => {
    const text = generateEncryptionConfig();
    assert.match(text, /^# Encryption at rest/);
    const config = parseEncryptionConfiguration(text);
    const entry = config.resources[0];
    assert.deepEqual(entry?.resources, ['secrets']);
    assert.deepEqual(
      entry?.providers.map((p) => providerKeys(p).type),
      ['secretbox', 'identity'],
    );
    const first = entry?.providers[0];
    assert.ok(first !== undefined);
    const [key] = providerKeys(first).keys;
    assert.equal(key?.name, 'key1');
    assert.equal(Buffer.from(key?.secret ?? '', 'base64').length, 32);
  });

  it('uses fresh randomness every time', () => {
    assert.notEqual(generateEncryptionConfig(), generateEncryptionConfig());
  });

  it('is a pure function of its options when the key is given', () => {
    const options = {
      provider: 'aescbc',
      keyName: 'k-2026',
      key: Buffer.alloc(32, 1),
      resources: ['secrets', 'configmaps'],
    } as const;
    assert.equal(generateEncryptionConfig(options), generateEncryptionConfig(options));
    const config = parseEncryptionConfiguration(generateEncryptionConfig(options));
    assert.deepEqual(config.resources[0]?.resources, ['secrets', 'configmaps']);
    assert.deepEqual(config.resources[0]?.providers[0], {
      aescbc: { keys: [{ name: 'k-2026', secret: Buffer.alloc(32, 1).toString('base64') }] },
    });
  });

  it('the generated config encrypts, and still reads plaintext written before it (stale)', () => {
    const t = buildResourceTransformers(parseEncryptionConfiguration(generateEncryptionConfig())).forResource(SECRETS);
    const stored = t.toStorage(PLAIN, STORAGE_KEY);
    assert.equal(describeStoredValue(stored).provider, 'secretbox');
    assert.ok(!stored.includes(PLAIN));
    assert.deepEqual(t.fromStorage(PLAIN, STORAGE_KEY), { data: PLAIN, stale: true });
  });

  it('refuses what it could not write validly: wrong key sizes, bad resources, empty names', () => {
    assert.throws(
      () => generateEncryptionConfig({ provider: 'secretbox', key: Buffer.alloc(16) }),
      EncryptionConfigError,
    );
    assert.throws(() => generateEncryptionConfig({ resources: ['Secrets'] }), /capital letters/);
    assert.throws(() => generateEncryptionConfig({ keyName: '' }), /name is a mandatory field/);
  });
});

describe('rotateEncryptionConfig', () => {
  it('puts the new key first in the same provider; old values read (stale) and rewrite to the new key', () => {
    const original = parseEncryptionConfiguration(generateEncryptionConfig({ provider: 'aescbc', keyName: 'key1' }));
    const old = buildResourceTransformers(original).forResource(SECRETS).toStorage(PLAIN, STORAGE_KEY);
    const rotated = parseEncryptionConfiguration(
      rotateEncryptionConfig(original, { provider: 'aescbc', keyName: 'key2' }),
    );
    const first = rotated.resources[0]?.providers[0];
    assert.ok(first !== undefined);
    assert.deepEqual(
      providerKeys(first).keys.map((k) => k.name),
      ['key2', 'key1'],
    );
    const t = buildResourceTransformers(rotated).forResource(SECRETS);
    assert.deepEqual(t.fromStorage(old, STORAGE_KEY), { data: PLAIN, stale: true });
    const rewritten = t.toStorage(PLAIN, STORAGE_KEY);
    assert.equal(describeStoredValue(rewritten).keyName, 'key2');
    assert.deepEqual(t.fromStorage(rewritten, STORAGE_KEY), { data: PLAIN, stale: false });
  });

  it('adds a new first provider when switching provider type, keeping the old ones for reads', () => {
    const original = parseEncryptionConfiguration(generateEncryptionConfig({ provider: 'aescbc' }));
    const old = buildResourceTransformers(original).forResource(SECRETS).toStorage(PLAIN, STORAGE_KEY);
    const rotated = parseEncryptionConfiguration(
      rotateEncryptionConfig(original, { provider: 'secretbox', keyName: 'box1' }),
    );
    assert.deepEqual(
      rotated.resources[0]?.providers.map((p) => providerKeys(p).type),
      ['secretbox', 'aescbc', 'identity'],
    );
    assert.deepEqual(buildResourceTransformers(rotated).forResource(SECRETS).fromStorage(old, STORAGE_KEY).stale, true);
  });

  it('refuses reusing a key name (it would make old values ambiguous)', () => {
    const original = parseEncryptionConfiguration(generateEncryptionConfig({ keyName: 'key1' }));
    assert.throws(() => rotateEncryptionConfig(original, { keyName: 'key1' }), /duplicate key name/);
  });
});
