import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DelegatedAuth, secureServingConfig, type AccessReviewer, type CallerIdentity } from './metrics-server.js';

/** A reviewer that knows one token and allows one user, counting its calls. */
function fakeReviewer(): AccessReviewer & { calls: number } {
  const reviewer = {
    calls: 0,
    authenticate(token: string): Promise<CallerIdentity | undefined> {
      reviewer.calls++;
      if (token === 'good') return Promise.resolve({ username: 'prometheus', groups: ['system:monitoring'] });
      if (token === 'weak') return Promise.resolve({ username: 'system:serviceaccount:ns:nobody', groups: [] });
      return Promise.resolve(undefined);
    },
    authorize(user: CallerIdentity, path: string): Promise<boolean> {
      reviewer.calls++;
      return Promise.resolve(path === '/metrics' && user.groups.includes('system:monitoring'));
    },
  };
  return reviewer;
}

test('delegated auth: no credentials 401, unknown token 401, a user without rights 403, a monitor allowed', async () => {
  const auth = new DelegatedAuth(fakeReviewer());
  assert.deepEqual(await auth.decide({}, '/metrics'), { allowed: false, code: 401, message: 'Unauthorized' });
  assert.equal((await auth.decide({ bearerToken: 'forged' }, '/metrics')).allowed, false);
  const weak = await auth.decide({ bearerToken: 'weak' }, '/metrics');
  assert.equal(weak.allowed === false && weak.code, 403);
  assert.match(weak.allowed ? '' : weak.message, /User "system:serviceaccount:ns:nobody" cannot get path "\/metrics"/);
  assert.equal((await auth.decide({ bearerToken: 'good' }, '/metrics')).allowed, true);
  const cert = { username: 'admin', groups: ['system:monitoring'] };
  assert.equal((await auth.decide({ certificateUser: cert }, '/metrics')).allowed, true);
});

test('delegated auth: answers are cached for 10 s per token and identity, then asked again', async () => {
  let now = 1_000_000;
  const reviewer = fakeReviewer();
  const auth = new DelegatedAuth(reviewer, () => now);
  for (let i = 0; i < 5; i++) await auth.decide({ bearerToken: 'good' }, '/metrics');
  for (let i = 0; i < 5; i++) await auth.decide({ bearerToken: 'forged' }, '/metrics');
  assert.equal(reviewer.calls, 3); // good: authenticate + authorize; forged: authenticate
  now += 10_001;
  await auth.decide({ bearerToken: 'good' }, '/metrics');
  assert.equal(reviewer.calls, 5);
});

test('delegated auth: a flood of distinct tokens keeps the cache bounded and still answers', async () => {
  const auth = new DelegatedAuth(fakeReviewer());
  for (let i = 0; i < 3000; i++) await auth.decide({ bearerToken: `t${i}` }, '/metrics');
  assert.equal((await auth.decide({ bearerToken: 'good' }, '/metrics')).allowed, true);
});

test('secure serving flags: defaults, a bad port and a lone key refused', () => {
  assert.deepEqual(secureServingConfig({}, 10259), {
    port: 10259,
    bindAddress: '127.0.0.1',
    tls: undefined,
    clientCaPem: undefined,
  });
  assert.equal(secureServingConfig({ securePort: '12345', bindAddress: '0.0.0.0' }, 10257).port, 12345);
  assert.throws(() => secureServingConfig({ securePort: '70000' }, 10259), /--secure-port/);
  assert.throws(() => secureServingConfig({ securePort: 'x' }, 10259), /--secure-port/);
  assert.throws(() => secureServingConfig({ tlsCertFile: '/nope' }, 10259), /go together/);
});
