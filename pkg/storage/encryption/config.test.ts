import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EncryptionConfigError, decodeBase64Strict, parseEncryptionConfiguration } from './config.js';

const KEY32 = Buffer.alloc(32, 7).toString('base64');
const KEY16 = Buffer.alloc(16, 7).toString('base64');

const VALID_YAML = `
apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
  - resources:
      - secrets
      - configmaps
    providers:
      - aescbc:
          keys:
            - name: key2
              secret: ${KEY32}
            - name: key1
              secret: ${KEY16}
      - secretbox:
          keys:
            - name: box1
              secret: ${KEY32}
      - identity: {}
  - resources: ['*.apps']
    providers:
      - aesgcm:
          keys: [{ name: g1, secret: ${KEY16} }]
`;

/** The config around one providers list / resources list, to vary one thing at a time. */
function withProviders(providers: unknown, resources: unknown = ['secrets']): string {
  return JSON.stringify({
    apiVersion: 'apiserver.config.k8s.io/v1',
    kind: 'EncryptionConfiguration',
    resources: [{ resources, providers }],
  });
}

/** The refusal's message; fails the test if the text was accepted or threw something else. */
function refusal(text: string): string {
  try {
    parseEncryptionConfiguration(text);
  } catch (err) {
    assert.ok(err instanceof EncryptionConfigError, `expected EncryptionConfigError, got ${String(err)}`);
    return err.message;
  }
  return assert.fail('the config was accepted');
}

describe('parseEncryptionConfiguration', () => {
  it('reads YAML with every provider type, keeping the order of providers and keys', () => {
    const config = parseEncryptionConfiguration(VALID_YAML);
    const [first, second] = config.resources;
    assert.deepEqual(first?.resources, ['secrets', 'configmaps']);
    assert.deepEqual(
      first?.providers.map((p) => Object.keys(p)[0]),
      ['aescbc', 'secretbox', 'identity'],
    );
    const aescbc = first?.providers[0];
    assert.ok(aescbc !== undefined && 'aescbc' in aescbc);
    assert.deepEqual(
      aescbc.aescbc.keys.map((k) => k.name),
      ['key2', 'key1'],
    );
    assert.deepEqual(second?.resources, ['*.apps']);
  });

  it('reads the same config as JSON', () => {
    const json = withProviders([{ secretbox: { keys: [{ name: 'k', secret: KEY32 }] } }, { identity: {} }]);
    assert.equal(parseEncryptionConfiguration(json).resources[0]?.providers.length, 2);
  });

  it('refuses a wrong apiVersion or kind, naming the field', () => {
    const text = VALID_YAML.replace('apiserver.config.k8s.io/v1', 'v1').replace(
      'kind: EncryptionConfiguration',
      'kind: EncryptionConfig',
    );
    const message = refusal(text);
    assert.match(message, /apiVersion: Invalid value: "v1": must be apiserver\.config\.k8s\.io\/v1/);
    assert.match(message, /kind: Invalid value: "EncryptionConfig"/);
  });
});

describe('parseEncryptionConfiguration: broken and hostile files', () => {
  it('refuses empty files, YAML errors, several documents and non-objects without crashing', () => {
    assert.match(refusal(''), /is empty/);
    assert.match(refusal('   \n'), /is empty/);
    assert.match(refusal('resources: [unclosed'), /error while parsing file/);
    assert.match(refusal('a: 1\n---\nb: 2\n'), /more than one document/);
    for (const text of ['42', '"text"', '[1, 2]', 'null', 'true']) {
      assert.match(refusal(text), /one EncryptionConfiguration object/);
    }
  });

  it('refuses duplicate fields rather than silently keeping the last', () => {
    const text = `apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nkind: EncryptionConfiguration\nresources: []\n`;
    assert.match(refusal(text), /duplicate field "kind"/);
  });

  it('refuses hostile YAML (alias bombs, deep nesting, prototype keys)', () => {
    // Nine levels of ten aliases each: 10^9 nodes if expanded.
    const letters = 'abcdefghi';
    const bomb = [...letters].map((name, level) =>
      level === 0
        ? `${name}: &${name} [x, x, x, x, x, x, x, x, x, x]`
        : `${name}: &${name} [${Array(10)
            .fill(`*${letters[level - 1] ?? ''}`)
            .join(', ')}]`,
    );
    assert.match(refusal(bomb.join('\n')), /error while parsing file/);
    assert.match(refusal(`${'['.repeat(5000)}${']'.repeat(5000)}`), /error while parsing file/);
    const proto = `{"__proto__": {"polluted": true}, "apiVersion": "apiserver.config.k8s.io/v1"}`;
    assert.match(refusal(proto), /error while parsing file/);
    assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
  });

  it('requires resources, and resources and providers in every entry', () => {
    assert.match(
      refusal(JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration' })),
      /resources: Required value/,
    );
    const message = refusal(withProviders([], []));
    assert.match(
      message,
      /resources\[0\]\.resources: Required value: at least one resources\[0\]\.resources is required/,
    );
    assert.match(
      message,
      /resources\[0\]\.providers: Required value: at least one resources\[0\]\.providers is required/,
    );
    assert.match(
      refusal(
        JSON.stringify({
          apiVersion: 'apiserver.config.k8s.io/v1',
          kind: 'EncryptionConfiguration',
          resources: ['secrets'],
        }),
      ),
      /resources\[0\]: .*must be an object/,
    );
  });
});

describe('parseEncryptionConfiguration: providers and keys', () => {
  it('refuses unknown providers, naming them', () => {
    const message = refusal(withProviders([{ aesctr: { keys: [{ name: 'k', secret: KEY32 }] } }]));
    assert.match(message, /resources\[0\]\.providers\[0\]\.aesctr: Invalid value: "aesctr": unknown provider/);
  });

  it('refuses kms with a message saying it is not supported', () => {
    const message = refusal(
      withProviders([{ kms: { apiVersion: 'v2', name: 'vault', endpoint: 'unix:///kms.sock' } }, { identity: {} }]),
    );
    assert.match(message, /resources\[0\]\.providers\[0\]\.kms: Unsupported value: the kms provider is not supported/);
  });

  it('refuses an element with two providers, or none, with Kubernetes\u2019 messages', () => {
    assert.match(
      refusal(withProviders([{ aescbc: { keys: [{ name: 'k', secret: KEY32 }] }, identity: {} }])),
      /more than one provider specified in a single element/,
    );
    assert.match(refusal(withProviders([{}])), /provider does not contain any of the expected providers/);
    assert.match(refusal(withProviders(['identity'])), /resources\[0\]\.providers\[0\]: .*must be an object/);
  });

  it('refuses identity written without {} (null) or with settings', () => {
    assert.match(
      refusal(
        'apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - identity:\n',
      ),
      /providers\[0\]\.identity: .*identity: \{\}/,
    );
    assert.match(refusal(withProviders([{ identity: { keys: [] } }])), /identity takes no settings/);
  });

  it('requires keys, each with a name and a secret', () => {
    assert.match(
      refusal(withProviders([{ aescbc: { keys: [] } }])),
      /providers\[0\]\.aescbc\.keys: Required value: at least one keys is required/,
    );
    assert.match(refusal(withProviders([{ secretbox: {} }])), /providers\[0\]\.secretbox\.keys: Required value/);
    assert.match(refusal(withProviders([{ secretbox: null }])), /providers\[0\]\.secretbox\.keys: Required value/);
    const message = refusal(
      withProviders([{ aesgcm: { keys: [{ secret: KEY32 }, { name: 'k2', secret: '' }, 'key'] } }]),
    );
    assert.match(message, /aesgcm\.keys\[0\]\.name: Required value: name is a mandatory field for a key/);
    assert.match(message, /aesgcm\.keys\[1\]\.secret: Required value: secret is a mandatory field for a key/);
    assert.match(message, /aesgcm\.keys\[2\]: Invalid value/);
  });
});

describe('parseEncryptionConfiguration: keys', () => {
  it('refuses secrets that are not base64, without echoing them', () => {
    for (const secret of ['not base64!', 'c2VjcmV0', 'QR==', 'abc', `${KEY32}x`]) {
      const message = refusal(withProviders([{ aescbc: { keys: [{ name: 'k', secret }] } }]));
      assert.match(message, /aescbc\.keys\[0\]\.secret: Invalid value: "REDACTED"/);
      assert.ok(!message.includes(secret), `the secret ${secret} leaked into: ${message}`);
    }
  });

  it('enforces Kubernetes\u2019 key sizes: 16/24/32 bytes for AES, 32 for secretbox', () => {
    for (const size of [16, 24, 32]) {
      const secret = Buffer.alloc(size, 1).toString('base64');
      parseEncryptionConfiguration(withProviders([{ aescbc: { keys: [{ name: 'k', secret }] } }]));
      parseEncryptionConfiguration(withProviders([{ aesgcm: { keys: [{ name: 'k', secret }] } }]));
    }
    const short = Buffer.alloc(8, 1).toString('base64');
    assert.match(
      refusal(withProviders([{ aescbc: { keys: [{ name: 'k', secret: short }] } }])),
      /secret is not of the expected length, got 8, expected one of \[16 24 32\]/,
    );
    assert.match(
      refusal(withProviders([{ secretbox: { keys: [{ name: 'k', secret: KEY16 }] } }])),
      /secret is not of the expected length, got 16, expected one of \[32\]/,
    );
    const long = Buffer.alloc(64, 1).toString('base64');
    assert.match(refusal(withProviders([{ aesgcm: { keys: [{ name: 'k', secret: long }] } }])), /got 64/);
  });

  it('refuses duplicate key names within a provider and across providers of one type', () => {
    const within = refusal(
      withProviders([
        {
          aescbc: {
            keys: [
              { name: 'k', secret: KEY32 },
              { name: 'k', secret: KEY16 },
            ],
          },
        },
      ]),
    );
    assert.match(within, /aescbc\.keys\[1\]\.name: Invalid value: "k": duplicate key name/);
    const across = refusal(
      withProviders([
        { aescbc: { keys: [{ name: 'k', secret: KEY32 }] } },
        { aescbc: { keys: [{ name: 'k', secret: KEY16 }] } },
      ]),
    );
    assert.match(
      across,
      /providers\[1\]\.aescbc\.keys: Invalid value: "k": key name already used by resources\[0\]\.providers\[0\]/,
    );
    // The same name under different provider types has different prefixes: allowed.
    parseEncryptionConfiguration(
      withProviders([
        { aescbc: { keys: [{ name: 'k', secret: KEY32 }] } },
        { secretbox: { keys: [{ name: 'k', secret: KEY32 }] } },
      ]),
    );
  });
});

describe('parseEncryptionConfiguration: resources', () => {
  it('validates resource names as Kubernetes does', () => {
    const identity = [{ identity: {} }];
    assert.match(
      refusal(withProviders(identity, ['Secrets'])),
      /resources\[0\]\.resources\[0\]: Invalid value: "Secrets": resource name should not contain capital letters/,
    );
    assert.match(
      refusal(withProviders(identity, ['*'])),
      /use '\*\.' to encrypt all the resources from core API group/,
    );
    assert.match(refusal(withProviders(identity, ['events.events.k8s.io'])), /stored using the 'events' API group/);
    assert.match(refusal(withProviders(identity, ['deployments.extensions'])), /'extensions' group has been removed/);
    assert.match(
      refusal(withProviders(identity, ['secrets.*'])),
      /encrypting the same resource across groups is not supported/,
    );
    assert.match(
      refusal(withProviders(identity, ['serviceipallocations'])),
      /resources which do not have REST API\/s cannot be encrypted/,
    );
    assert.match(
      refusal(withProviders(identity, ['secrets', 'secrets'])),
      /the same resource cannot be specified multiple times/,
    );
    assert.match(refusal(withProviders(identity, ['secrets', '*.'])), /overlapping resources/);
    assert.match(refusal(withProviders(identity, ['*.*', 'deployments.apps'])), /overlapping resources/);
    assert.match(refusal(withProviders(identity, ['deployments.apps', '*.apps'])), /overlapping resources/);
    assert.match(refusal(withProviders(identity, [''])), /resources\[0\]: Required value/);
    assert.match(refusal(withProviders(identity, [7])), /resources\[0\]\.resources\[0\]: Invalid value/);
    // Different groups do not overlap.
    parseEncryptionConfiguration(withProviders(identity, ['secrets', '*.apps', 'jobs.batch']));
  });

  it('lists every problem at once', () => {
    let causes = 0;
    try {
      parseEncryptionConfiguration(withProviders([{ aescbc: { keys: [] } }, { bogus: {} }], ['Secrets']));
    } catch (err) {
      assert.ok(err instanceof EncryptionConfigError);
      assert.match(err.message, /^invalid EncryptionConfiguration: \[/);
      causes = err.causes.length;
    }
    assert.equal(causes, 3);
  });
});

describe('decodeBase64Strict', () => {
  it('accepts canonical padded base64 and line breaks, as Go does', () => {
    assert.deepEqual(decodeBase64Strict('aGVsbG8='), Buffer.from('hello'));
    assert.deepEqual(decodeBase64Strict('aGVs\nbG8='), Buffer.from('hello'));
  });

  it('refuses what Go refuses: missing padding, URL alphabet, stray characters, non-canonical bits', () => {
    for (const text of ['aGVsbG8', 'a-_b', 'aGVs bG8=', 'aGVsbG8=\u0000', 'QR==', '====']) {
      assert.equal(decodeBase64Strict(text), undefined, text);
    }
  });
});
