import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError } from '../component/index.js';
import { generateEncryptionConfig } from '../storage/encryption/index.js';
import { apiServerConfig, type ApiServerFlags } from './flags.js';

const FLAGS: ApiServerFlags = {
  dataDir: '/var/lib/coxswain',
  tlsCertFile: 'a.crt',
  tlsPrivateKeyFile: 'a.key',
  clientCaFile: 'ca.crt',
  securePort: '6443',
  bindAddress: '0.0.0.0',
  advertiseAddress: '10.0.0.1',
  maxRequestBytes: '1024',
  watchHistory: '100',
  compactionInterval: '0',
  bookmarkInterval: '60',
  serviceClusterIpRange: '10.96.3.4/12',
  maxRequestsInflight: '400',
  maxMutatingRequestsInflight: '200',
  maxWatchesPerUser: '64',
  maxWatches: '2000',
  watchMaxBufferBytes: '0',
};

test('flags become the ApiServerConfig: seconds to ms, the range normalised, floors of 1 where 0 means nothing', () => {
  const c = apiServerConfig(FLAGS);
  assert.equal(c.securePort, 6443);
  assert.equal(c.tlsKeyFile, 'a.key');
  assert.equal(c.serviceClusterIPRange, '10.96.0.0/12');
  assert.equal(c.bookmarkIntervalMs, 60_000);
  assert.equal(c.compactionIntervalMs, 1000);
  assert.equal(c.watchMaxBufferedBytes, 1);
  assert.equal(c.kubeletClientCertFile, undefined);
  assert.equal(apiServerConfig({ ...FLAGS, kubeletClientCertificate: 'k.crt' }).kubeletClientCertFile, 'k.crt');
});

test('a flag it cannot accept is a ConfigError naming the flag', () => {
  assert.throws(
    () => apiServerConfig({ ...FLAGS, securePort: '-1' }),
    (e: unknown) => e instanceof ConfigError && /^--secure-port must be/.test(e.message),
  );
  assert.throws(
    () => apiServerConfig({ ...FLAGS, maxWatches: '1.5' }),
    (e: unknown) => e instanceof ConfigError && /^--max-watches must be/.test(e.message),
  );
  assert.throws(
    () => apiServerConfig({ ...FLAGS, serviceClusterIpRange: '10.0.0.0/30' }),
    (e: unknown) => e instanceof ConfigError && /\/8 to \/28/.test(e.message),
  );
  assert.throws(
    () => apiServerConfig({ ...FLAGS, advertiseAddress: 'kubernetes.local' }),
    (e: unknown) => e instanceof ConfigError && /^--advertise-address must be an IP address/.test(e.message),
  );
  // Not given: chosen from the host, and never left empty.
  assert.notEqual(apiServerConfig({ ...FLAGS, advertiseAddress: '' }).advertiseAddress, '');
});

test('--encryption-provider-config is read and checked now: a bad file is one ConfigError line', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flags-enc-'));
  try {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, generateEncryptionConfig({ keyName: 'k1' }));
    const c = apiServerConfig({ ...FLAGS, encryptionProviderConfig: good });
    assert.equal(c.encryption?.file, good);
    assert.deepEqual(c.encryption.config.resources[0]?.resources, ['secrets']);
    assert.equal(apiServerConfig(FLAGS).encryption, undefined);

    const masked = join(dir, 'masked.yaml');
    const resources = [
      { resources: ['*.apps'], providers: [{ identity: {} }] },
      { resources: ['deployments.apps'], providers: [{ identity: {} }] },
    ];
    writeFileSync(
      masked,
      JSON.stringify({ apiVersion: 'apiserver.config.k8s.io/v1', kind: 'EncryptionConfiguration', resources }),
    );
    const refused = (file: string, pattern: RegExp): void =>
      assert.throws(
        () => apiServerConfig({ ...FLAGS, encryptionProviderConfig: file }),
        (err: unknown) => err instanceof ConfigError && !err.message.includes('\n') && pattern.test(err.message),
      );
    refused(masked, /^--encryption-provider-config .*masked by earlier rule "\*\.apps"/);
    refused(join(dir, 'missing.yaml'), /^--encryption-provider-config: cannot read .*missing\.yaml/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('audit flags: on with a policy and a path, sizes in megabytes; off without a path; bad counts refused', () => {
  assert.equal(apiServerConfig(FLAGS).audit, undefined);
  assert.equal(apiServerConfig({ ...FLAGS, auditPolicyFile: 'policy.yaml' }).audit, undefined, 'nowhere to log');
  const audit = apiServerConfig({
    ...FLAGS,
    auditPolicyFile: 'policy.yaml',
    auditLogPath: '-',
    auditLogMaxage: '7',
    auditLogMaxbackup: '3',
    auditLogMaxsize: '2',
  }).audit;
  assert.equal(audit?.path, '-');
  assert.equal(audit?.maxAgeDays, 7);
  assert.equal(audit?.maxBackups, 3);
  assert.equal(audit?.maxSizeBytes, 2 * 1024 * 1024);
  for (const bad of ['-1', '1.5', 'ten', '']) {
    assert.throws(
      () => apiServerConfig({ ...FLAGS, auditPolicyFile: 'p', auditLogPath: 'l', auditLogMaxage: bad }),
      (err: unknown) => err instanceof ConfigError && err.message.includes('--audit-log-maxage'),
    );
  }
});
