// Malformed requests get the answer Kubernetes gives (a Status with its code), never a 500,
// a reset socket or a silent wrong result; the store is unchanged and the apiserver keeps
// running (same process). Each hostile case sits next to the well-formed one.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import { after, before, describe, test } from 'node:test';
import { startControlPlane, type ControlPlane } from './harness/control-plane.js';
import { rawRequest, type RawResponse } from './harness/https.js';

let plane: ControlPlane;
let creds: { ca: string; cert: string; key: string };
let pid: number | undefined;

async function call(
  method: string,
  path: string,
  opts: { body?: unknown; contentType?: string; headers?: Record<string, string> } = {},
): Promise<RawResponse & { json: Record<string, unknown> }> {
  const payload =
    opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (payload !== undefined) {
    headers['Content-Type'] = opts.contentType ?? 'application/json';
    headers['Content-Length'] = String(Buffer.byteLength(payload));
  }
  const res = await rawRequest({
    port: plane.port,
    method,
    path,
    ...creds,
    headers,
    ...(payload !== undefined ? { body: payload } : {}),
  });
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(res.body) as Record<string, unknown>;
  } catch {
    json = {};
  }
  return { ...res, json };
}

function assertStatus(res: { status: number; json: Record<string, unknown> }, code: number, reason: string): void {
  assert.equal(res.status, code, JSON.stringify(res.json));
  assert.equal(res.json['kind'], 'Status', 'the answer is a Status object');
  assert.equal(res.json['code'], code);
  assert.equal(res.json['reason'], reason);
}

async function revision(): Promise<number> {
  const res = await call('GET', '/api/v1/namespaces');
  return Number((res.json['metadata'] as { resourceVersion: string }).resourceVersion);
}

/** Reads a chunked watch until `until` says enough or the stream ends (bounded by a timeout). */
function watch(
  path: string,
  until: (events: { type: string; object: Record<string, unknown> }[]) => boolean,
  timeoutMs = 20_000,
): Promise<{ status: number; events: { type: string; object: Record<string, unknown> }[]; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const events: { type: string; object: Record<string, unknown> }[] = [];
    let buffer = '';
    const req = https.request(
      { host: '127.0.0.1', port: plane.port, method: 'GET', path, agent: false, ...creds },
      (res) => {
        const finish = (ended: boolean): void => {
          clearTimeout(timer);
          req.destroy();
          resolve({ status: res.statusCode ?? 0, events, ended });
        };
        res.on('data', (chunk: Buffer) => {
          buffer += chunk.toString();
          let nl: number;
          while ((nl = buffer.indexOf('\n')) >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            if (line.trim() !== '') events.push(JSON.parse(line) as { type: string; object: Record<string, unknown> });
          }
          if (until(events)) finish(false);
        });
        res.on('end', () => finish(true));
      },
    );
    const timer = setTimeout(
      () => req.destroy(new Error(`watch ${path} saw ${JSON.stringify(events)} and nothing more`)),
      timeoutMs,
    );
    req.on('error', reject);
    req.end();
  });
}

before(async () => {
  plane = await startControlPlane();
  pid = plane.apiserver.pid;
  creds = {
    ca: readFileSync(plane.pki.caCert, 'utf8'),
    cert: readFileSync(plane.pki.adminCert, 'utf8'),
    key: readFileSync(plane.pki.adminKey, 'utf8'),
  };
  const res = await call('POST', '/api/v1/namespaces/default/configmaps', {
    body: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'keep', labels: { app: 'keep' } },
      data: { a: '1' },
    },
  });
  assert.equal(res.status, 201);
});
after(async () => {
  // The same apiserver process answered everything, and still does.
  assert.equal(plane.apiserver.pid, pid);
  assert.equal(plane.apiserver.exitCode, null);
  assert.equal((await call('GET', '/healthz')).status, 200);
  await plane.stop();
});

describe('paths and methods', () => {
  test('a malformed percent-escape in a path is 400, a well-formed one resolves', async () => {
    const rv = await revision();
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps/%6Beep')).status, 200);
    assertStatus(await call('GET', '/api/v1/namespaces/%zz/pods'), 400, 'BadRequest');
    assertStatus(await call('GET', '/api/%E0%A4%A'), 400, 'BadRequest');
    assertStatus(await call('GET', '/apis/apps/%/deployments'), 400, 'BadRequest');
    assertStatus(await call('DELETE', '/api/v1/namespaces/default/configmaps/%E0%A4%A'), 400, 'BadRequest');
    assert.equal(await revision(), rv);
  });

  test('POST to a named path and PUT or PATCH to a collection are 405', async () => {
    const rv = await revision();
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'keep' } };
    assertStatus(await call('POST', '/api/v1/namespaces/default/configmaps/keep', { body }), 405, 'MethodNotAllowed');
    assertStatus(
      await call('POST', '/api/v1/namespaces/default/pods/foo', {
        body: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'foo' } },
      }),
      405,
      'MethodNotAllowed',
    );
    assertStatus(await call('PUT', '/api/v1/namespaces/default/configmaps', { body }), 405, 'MethodNotAllowed');
    assertStatus(
      await call('PATCH', '/api/v1/namespaces/default/configmaps', {
        body: {},
        contentType: 'application/merge-patch+json',
      }),
      405,
      'MethodNotAllowed',
    );
    assert.equal(await revision(), rv);
  });
});

describe('resourceVersion', () => {
  test('a resourceVersion that is not a number is 400 on list, get and watch', async () => {
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps?resourceVersion=0')).status, 200);
    for (const path of [
      '/api/v1/namespaces/default/configmaps?resourceVersion=abc',
      '/api/v1/namespaces/default/configmaps/keep?resourceVersion=abc',
      '/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=abc',
      '/api/v1/namespaces/default/configmaps?resourceVersion=-1',
    ]) {
      const res = await call('GET', path);
      assertStatus(res, 400, 'BadRequest');
      assert.match(String(res.json['message']), /resourceVersion/);
    }
  });

  test('a watch from a resourceVersion the server has not reached ends with 504 Too large resource version', async () => {
    const current = await revision();
    const future = current + 1000;
    const res = await watch(
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${future}`,
      (evs) => evs.length > 0,
    );
    assert.equal(res.status, 200);
    const ev = res.events[0];
    assert.equal(ev?.type, 'ERROR');
    const status = ev.object as {
      code: number;
      reason: string;
      message: string;
      details: { causes: { reason: string }[]; retryAfterSeconds: number };
    };
    assert.equal(status.code, 504);
    assert.equal(status.reason, 'Timeout');
    assert.equal(status.message, `Too large resource version: ${future}, current: ${current}`);
    assert.equal(status.details.causes[0]?.reason, 'ResourceVersionTooLarge');
    assert.equal(status.details.retryAfterSeconds, 1);
  });

  test('a list at a future resourceVersion is 504; one the server reaches while waiting is served', async () => {
    const current = await revision();
    const res = await call('GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${current + 1000}`);
    assertStatus(res, 504, 'Timeout');
    assert.match(String(res.json['message']), /^Too large resource version/);
    // The next revision arrives during the wait: the watch from it starts normally.
    const next = (await revision()) + 1;
    const watching = watch(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${next - 1}`, (evs) =>
      evs.some((e) => e.type === 'ADDED'),
    );
    const created = await call('POST', '/api/v1/namespaces/default/configmaps', {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'later' } },
    });
    assert.equal(created.status, 201);
    const seen = await watching;
    assert.equal(seen.events[0]?.type, 'ADDED');
    assert.equal((await call('DELETE', '/api/v1/namespaces/default/configmaps/later')).status, 200);
  });
});

describe('watch timeouts', () => {
  test('timeoutSeconds=1e12 keeps the watch open (no timer overflow); timeoutSeconds=abc is 400', async () => {
    const rv = await revision();
    const watching = watch(
      `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&timeoutSeconds=1e12`,
      (evs) => evs.length > 0,
    );
    // The event is written after the watch is set up; a watch closed at once would end empty.
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(
      (
        await call('POST', '/api/v1/namespaces/default/configmaps', {
          body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'long' } },
        })
      ).status,
      201,
    );
    const res = await watching;
    assert.equal(res.ended, false, `the watch ended early: ${JSON.stringify(res.events)}`);
    assert.equal(res.events[0]?.type, 'ADDED');
    assert.equal((await call('DELETE', '/api/v1/namespaces/default/configmaps/long')).status, 200);
    assertStatus(
      await call('GET', '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=abc'),
      400,
      'BadRequest',
    );
  });
});

describe('label selectors', () => {
  const list = (sel: string): Promise<RawResponse & { json: Record<string, unknown> }> =>
    call('GET', `/api/v1/namespaces/default/configmaps?labelSelector=${encodeURIComponent(sel)}`);
  test('keys and values within the label rules are served', async () => {
    for (const sel of [
      'app=keep',
      `${'a'.repeat(63)}=x`,
      `${'p'.repeat(253)}/${'n'.repeat(63)}`,
      `example.com/app in (keep,${'v'.repeat(63)})`,
      'app=',
      '!app',
    ]) {
      const res = await list(sel);
      assert.equal(res.status, 200, `${sel}: ${res.body}`);
    }
    assert.equal(((await list('app=keep')).json['items'] as unknown[]).length, 1);
  });
  test('a name over 63, a prefix over 253 or not a DNS subdomain, a bad value are 400', async () => {
    for (const sel of [
      `${'a'.repeat(64)}=x`,
      `${'p'.repeat(254)}/app`,
      'Example.com/app=x',
      'under_score.com/app',
      '/app=x',
      'a/b/c=x',
      `app=${'v'.repeat(64)}`,
      'app=-bad',
      `app in (ok,${'v'.repeat(64)})`,
      '-app',
    ]) {
      const res = await list(sel);
      assertStatus(res, 400, 'BadRequest');
    }
  });
  test('a bad selector on deletecollection is 400 and deletes nothing', async () => {
    const rv = await revision();
    assertStatus(
      await call('DELETE', `/api/v1/namespaces/default/configmaps?labelSelector=${'a'.repeat(64)}`),
      400,
      'BadRequest',
    );
    assert.equal(await revision(), rv);
  });
});

describe('DeleteOptions', () => {
  test('wrong types are 400, an unknown propagationPolicy is 422 (as Kubernetes), and nothing is deleted', async () => {
    const rv = await revision();
    for (const body of [
      { gracePeriodSeconds: 'x' },
      { gracePeriodSeconds: 1.5 },
      { propagationPolicy: 5 },
      { preconditions: 'x' },
      { dryRun: 'All' },
      { orphanDependents: 'yes' },
      [1, 2],
      'x',
    ]) {
      assertStatus(await call('DELETE', '/api/v1/namespaces/default/configmaps/keep', { body }), 400, 'BadRequest');
    }
    assertStatus(
      await call('DELETE', '/api/v1/namespaces/default/configmaps/keep?gracePeriodSeconds=x'),
      400,
      'BadRequest',
    );
    const policy = await call('DELETE', '/api/v1/namespaces/default/configmaps/keep', {
      body: { propagationPolicy: 'Sideways' },
    });
    assertStatus(policy, 422, 'Invalid');
    assert.match(
      String(policy.json['message']),
      /propagationPolicy: Unsupported value: "Sideways": supported values: "Foreground", "Background", "Orphan"/,
    );
    assertStatus(
      await call('DELETE', '/api/v1/namespaces/default/configmaps/keep?propagationPolicy=Sideways'),
      422,
      'Invalid',
    );
    assert.equal(await revision(), rv);
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps/keep')).status, 200);
  });
  test('well-formed DeleteOptions delete', async () => {
    assert.equal(
      (
        await call('POST', '/api/v1/namespaces/default/configmaps', {
          body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'gone' } },
        })
      ).status,
      201,
    );
    const res = await call('DELETE', '/api/v1/namespaces/default/configmaps/gone', {
      body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0, propagationPolicy: 'Background' },
    });
    assert.equal(res.status, 200, res.body);
    assert.equal((await call('GET', '/api/v1/namespaces/default/configmaps/gone')).status, 404);
  });
});

describe('below the REST layer', () => {
  test('a websocket upgrade with a bad Sec-WebSocket-Version gets a 400 Status', async () => {
    const headers = {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Version': '99',
    };
    const res = await call('GET', '/api/v1/namespaces/default/configmaps?watch=true', { headers });
    assertStatus(res, 400, 'BadRequest');
    assert.match(String(res.json['message']), /Sec-WebSocket-Version/);
    assertStatus(
      await call('GET', '/api/v1/namespaces/default/configmaps?watch=true', {
        headers: { ...headers, 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': 'short' },
      }),
      400,
      'BadRequest',
    );
  });

  test('a 200 KB header gets 431 as a Status, not a reset; a normal header is served', async () => {
    assert.equal((await call('GET', '/api/v1/namespaces', { headers: { 'X-Small': 'a'.repeat(1000) } })).status, 200);
    const res = await call('GET', '/api/v1/namespaces', { headers: { 'X-Big': 'a'.repeat(200 * 1024) } });
    assert.equal(res.status, 431);
    assert.equal(res.json['kind'], 'Status');
    assert.equal(res.json['code'], 431);
  });
});
