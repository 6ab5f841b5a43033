import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AuditPolicyError } from './policy.js';
import { auditOptionsFromFlags, loadPolicyFile, openAudit } from './options.js';

const POLICY = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  nonResourceURLs: ["/healthz*"]
- level: Metadata
  resources: [{group: "", resources: ["secrets"]}]
- level: RequestResponse
`;

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'coxswain-audit-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('flags: audit is off without both a policy and a path; defaults as kube-apiserver', () => {
  assert.equal(auditOptionsFromFlags({}), undefined);
  assert.equal(auditOptionsFromFlags({ 'audit-log-path': '/var/log/audit.log' }), undefined);
  assert.equal(auditOptionsFromFlags({ 'audit-policy-file': '/etc/policy.yaml' }), undefined);
  assert.deepEqual(
    auditOptionsFromFlags({ 'audit-policy-file': '/p.yaml', 'audit-log-path': '-', 'audit-log-maxsize': 5 }),
    {
      policyFile: '/p.yaml',
      path: '-',
      maxAgeDays: 0,
      maxBackups: 0,
      maxSizeBytes: 5 * 1024 * 1024,
      bufferSize: 10000,
      maxEventBytes: 102400,
    },
  );
});

test('flags: negative or fractional numbers are refused by name', () => {
  assert.throws(
    () =>
      auditOptionsFromFlags({
        'audit-log-maxage': -1,
        'audit-log-maxbackup': 1.5,
        'audit-log-maxsize': -3,
        'audit-log-batch-buffer-size': 0,
      }),
    {
      message:
        "--audit-log-maxage -1 can't be a negative number; --audit-log-maxbackup 1.5 must be a whole number; " +
        "--audit-log-maxsize -3 can't be a negative number; --audit-log-batch-buffer-size 0 must be a positive number",
    },
  );
});

test('the policy file: read and checked, errors naming the file', async () => {
  await withTempDir(async (dir) => {
    const good = join(dir, 'policy.yaml');
    await writeFile(good, POLICY);
    assert.equal((await loadPolicyFile(good)).policy.rules.length, 3);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n');
    await assert.rejects(
      loadPolicyFile(bad),
      (err: unknown) =>
        err instanceof AuditPolicyError && err.message.includes(bad) && /rules\[0\]\.level/.test(err.message),
    );
    await assert.rejects(loadPolicyFile(join(dir, 'missing.yaml')), /failed to read file path/);
    await assert.rejects(loadPolicyFile(dir), /failed to read file path/);
  });
});

test('openAudit: a request through the recorder lands in the 0600 log, per the policy', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'policy.yaml'), POLICY);
    const options = auditOptionsFromFlags({
      'audit-policy-file': join(dir, 'policy.yaml'),
      'audit-log-path': join(dir, 'log', 'audit.log'),
    });
    assert.ok(options);
    const { recorder, backend } = await openAudit(options);
    assert.equal((await stat(join(dir, 'log', 'audit.log'))).mode & 0o777, 0o600, 'created at start');
    const user = { username: 'alice', groups: ['system:authenticated'] };
    assert.equal(
      recorder.begin({ requestURI: '/healthz', path: '/healthz', verb: 'get', user, sourceIPs: [] }),
      undefined,
    );
    const secretRef = { resource: 'secrets', namespace: 'default', name: 'db', apiVersion: 'v1' };
    const secretRead = recorder.begin({
      requestURI: '/api/v1/namespaces/default/secrets/db',
      path: '/api/v1/namespaces/default/secrets/db',
      verb: 'get',
      user,
      sourceIPs: ['10.0.0.2'],
      objectRef: secretRef,
    });
    secretRead?.recordAuthorization({ allowed: true, reason: '' });
    secretRead?.logResponseObject({ kind: 'Secret', metadata: { name: 'db' }, data: { password: 'c2VjcmV0' } });
    secretRead?.complete(200);
    await backend.shutdown();
    const text = await readFile(join(dir, 'log', 'audit.log'), 'utf8');
    const events = text
      .trim()
      .split('\n')
      .map((l): unknown => JSON.parse(l));
    assert.equal(events.length, 1, 'RequestReceived omitted, /healthz not audited');
    assert.ok(!text.includes('c2VjcmV0'));
    assert.match(text, /"stage":"ResponseComplete"/);
    assert.match(text, /"authorization.k8s.io\/decision":"allow"/);
  });
});

test('openAudit: `-` writes to stdout; a bad policy fails before anything is opened', async () => {
  await withTempDir(async (dir) => {
    await writeFile(join(dir, 'policy.yaml'), POLICY);
    const stdout = new PassThrough();
    const chunks: Buffer[] = [];
    stdout.on('data', (c: Buffer) => chunks.push(c));
    const options = auditOptionsFromFlags({ 'audit-policy-file': join(dir, 'policy.yaml'), 'audit-log-path': '-' });
    assert.ok(options);
    const { recorder, backend } = await openAudit(options, { stdout });
    recorder
      .begin({ requestURI: '/version', path: '/version', verb: 'get', user: { username: 'bob' }, sourceIPs: [] })
      ?.complete(200);
    await backend.shutdown();
    assert.match(
      Buffer.concat(chunks).toString(),
      /^\{"kind":"Event","apiVersion":"audit.k8s.io\/v1","level":"RequestResponse"/,
    );

    await writeFile(join(dir, 'empty.yaml'), 'apiVersion: audit.k8s.io/v1\nkind: Policy\n');
    const logPath = join(dir, 'never', 'audit.log');
    await assert.rejects(openAudit({ ...options, policyFile: join(dir, 'empty.yaml'), path: logPath }), /0 rules/);
    await assert.rejects(stat(logPath), /ENOENT/);
  });
});
