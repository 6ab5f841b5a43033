import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../api/meta.js';
import type { Resource, ResourceInfo } from '../api/registry.js';
import { RestClient, type SubresourceCreate } from '../client/index.js';
import { ApiError } from '../errors/index.js';
import { ControllerCredentials, type CredentialsClock } from './credentials.js';

/** Timers that fire only when the test moves time on. */
class FakeClock implements CredentialsClock {
  ms = 1_000_000;
  private timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.ms;
  }
  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.ms + ms, fn };
    this.timers.push(timer);
    return () => void (this.timers = this.timers.filter((t) => t !== timer));
  }
  get pending(): number {
    return this.timers.length;
  }
  async advance(ms: number): Promise<void> {
    this.ms += ms;
    const due = this.timers.filter((t) => t.at <= this.ms);
    this.timers = this.timers.filter((t) => t.at > this.ms);
    for (const t of due) t.fn();
    // Let the refresh's request settle.
    for (let i = 0; i < 5; i++) await Promise.resolve();
  }
}

const CONFIG = {
  server: 'https://127.0.0.1:1',
  caPem: undefined,
  certPem: undefined,
  keyPem: undefined,
  token: undefined,
  namespace: 'default',
  userName: 'cm',
};

/** The controller-manager's client against a pretend apiserver: no sockets. */
class FakeApi extends RestClient {
  accounts = new Set<string>();
  issued = 0;
  tokenStatus: number | undefined;
  failNext = false;
  constructor(private readonly clock: FakeClock) {
    super(CONFIG);
  }
  override get<T extends KubeObject>(_r: Resource<T>, name: string): Promise<T> {
    return Promise.reject(new ApiError('NotFound', `serviceaccounts "${name}" not found`, { code: 404 }));
  }
  /** Records the account; answers 409 (a typed object cannot be made up here), which counts as made. */
  override create<T extends KubeObject>(_r: Resource<T>, obj: unknown): Promise<T> {
    this.accounts.add(/"name":"([^"]+)"/.exec(JSON.stringify(obj))?.[1] ?? '');
    return Promise.reject(new ApiError('AlreadyExists', 'already exists', { code: 409 }));
  }
  override createSubresource(_r: ResourceInfo, name: string, req: SubresourceCreate): Promise<KubeObject> {
    if (this.tokenStatus !== undefined)
      return Promise.reject(new ApiError('MethodNotAllowed', 'not allowed', { code: this.tokenStatus }));
    if (this.failNext) {
      this.failNext = false;
      return Promise.reject(new ApiError('InternalError', 'etcd down', { code: 500 }));
    }
    assert.equal(req.subresource, 'token');
    this.issued += 1;
    const expirationTimestamp = new Date(this.clock.now() + 3600_000).toISOString();
    return Promise.resolve({
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      metadata: {},
      status: { token: `${name}-${this.issued}`, expirationTimestamp },
    });
  }
}

test('each controller gets a client with its ServiceAccount token, refreshed at 80 % of its life', async () => {
  const clock = new FakeClock();
  const api = new FakeApi(clock);
  const logs: string[] = [];
  const creds = new ControllerCredentials({ client: api, log: (m) => logs.push(m), clock });
  const rs = await creds.clientFor('replicaset-controller');
  assert.notEqual(rs, api);
  assert.ok(api.accounts.has('replicaset-controller'), 'the ServiceAccount was created');
  assert.equal(rs.config.token, 'replicaset-controller-1');
  assert.equal(rs.config.certPem, undefined, 'the token alone, not the process certificate');
  assert.equal(await creds.clientFor('replicaset-controller'), rs, 'one client per account');

  await clock.advance(2_879_000); // just before 80 % of an hour
  assert.equal(rs.config.token, 'replicaset-controller-1');
  await clock.advance(1_000); // 48 minutes
  assert.equal(rs.config.token, 'replicaset-controller-2');

  // A failed refresh keeps the held token and asks again shortly after.
  api.failNext = true;
  await clock.advance(2_880_000);
  assert.equal(rs.config.token, 'replicaset-controller-2');
  assert.match(logs.join('\n'), /refreshing the token of ServiceAccount kube-system\/replicaset-controller: etcd down/);
  await clock.advance(10_000);
  assert.equal(rs.config.token, 'replicaset-controller-3');

  creds.close();
  assert.equal(clock.pending, 0, 'no refresh left once closed');
});

for (const code of [404, 405]) {
  test(`an apiserver without TokenRequest (${code}) gets one log line and the shared client`, async () => {
    const clock = new FakeClock();
    const api = new FakeApi(clock);
    api.tokenStatus = code;
    const logs: string[] = [];
    const creds = new ControllerCredentials({ client: api, log: (m) => logs.push(m), clock });
    assert.equal(await creds.clientFor('deployment-controller'), api);
    assert.equal(await creds.clientFor('job-controller'), api);
    assert.equal(logs.length, 1);
    assert.match(logs[0] ?? '', /issues no ServiceAccount tokens .*controller-manager's own credentials/);
    assert.equal(clock.pending, 0);
    creds.close();
  });
}

test('other failures are not a fallback: the term fails and is retried', async () => {
  const clock = new FakeClock();
  const api = new FakeApi(clock);
  api.tokenStatus = 403;
  const creds = new ControllerCredentials({ client: api, log: () => undefined, clock });
  await assert.rejects(creds.clientFor('job-controller'), /not allowed/);
  creds.close();
});
