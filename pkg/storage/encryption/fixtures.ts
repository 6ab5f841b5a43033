// Shared by this folder's tests only: fixed keys, configs from a short list of providers,
// a fixed "random" source, and the refusal assertion.

import assert from 'node:assert/strict';
import { parseEncryptionConfiguration, type EncryptionConfiguration } from './config.js';
import { EncryptionError, type ValueTransformer } from './providers.js';
import { buildResourceTransformers } from './transformers.js';

export const STORAGE_KEY = '/registry/core/secrets/default/db';
export const SECRET_VALUE = 'hunter2-the-database-password';
export const PLAIN = Buffer.from(
  JSON.stringify({
    kind: 'Secret',
    apiVersion: 'v1',
    metadata: { name: 'db' },
    stringData: { password: SECRET_VALUE },
  }),
);
export const SECRETS = { group: '', resource: 'secrets' };

export const key = (fill: number, size = 32): Buffer => Buffer.alloc(size, fill);
export const b64 = (bytes: Buffer): string => bytes.toString('base64');

export type Provider = 'aescbc' | 'aesgcm' | 'secretbox';

/** A config for secrets with the given providers, each `[type, name, key]` or 'identity'. */
export function config(
  providers: ([Provider, string, Buffer] | 'identity')[],
  resources = ['secrets'],
): EncryptionConfiguration {
  return parseEncryptionConfiguration(
    JSON.stringify({
      apiVersion: 'apiserver.config.k8s.io/v1',
      kind: 'EncryptionConfiguration',
      resources: [
        {
          resources,
          providers: providers.map((p) =>
            p === 'identity' ? { identity: {} } : { [p[0]]: { keys: [{ name: p[1], secret: b64(p[2]) }] } },
          ),
        },
      ],
    }),
  );
}

export function secretsTransformer(
  providers: ([Provider, string, Buffer] | 'identity')[],
  random?: (size: number) => Buffer,
): ValueTransformer {
  return buildResourceTransformers(config(providers), random === undefined ? {} : { random }).forResource(SECRETS);
}

/** A fixed "random" source, so expected bytes can be computed independently. */
export const counting = (size: number): Buffer =>
  Buffer.from(Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff));

export function refused(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof EncryptionError, `expected EncryptionError, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

/** Like strings(1): runs of 4+ printable bytes. */
export function printableRuns(bytes: Uint8Array): string[] {
  return (
    Buffer.from(bytes)
      .toString('latin1')
      .match(/[\x20-\x7e]{4,}/g) ?? []
  );
}
