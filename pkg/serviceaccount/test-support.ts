// Fixtures shared by this folder's tests: keys, a clock, an in-memory object lookup, and a
// world of one ServiceAccount with a pod, a node and a Secret to bind tokens to.

import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { Node, Pod, Secret, ServiceAccount } from '../api/index.js';
import type { BoundObjects, TokenClaims } from './claims.js';
import { DEFAULT_ISSUER } from './config.js';
import { loadSigningKey, type SigningKey } from './keys.js';
import { createTokenSigner, type TokenSigner } from './signer.js';
import type { BoundObjectLookup, TokenVerifierOptions, VerifyResult } from './verifier.js';

/** A fixed P-256 key in SEC1 and PKCS#8 form, with the kid `openssl` computes for it. */
export const FIXED_EC_SEC1 = `-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIFEX+Pv2gzXZewurbR89rQs5f3Pd5GRMsvtEPax9jEnToAoGCCqGSM49
AwEHoUQDQgAEJfOAUu8VPNnGIi4eeizzMMl054DpK89TaNPHvHbVXApzi8Z+/kpy
EmqMpqhoyTfseCUBry1WISQKqLPLfq8y1g==
-----END EC PRIVATE KEY-----
`;
export const FIXED_EC_PKCS8 = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgURf4+/aDNdl7C6tt
Hz2tCzl/c93kZEyy+0Q9rH2MSdOhRANCAAQl84BS7xU82cYiLh56LPMwyXTngOkr
z1No08e8dtVcCnOLxn7+SnISaoymqGjJN+x4JQGvLVYhJAqos8t+rzLW
-----END PRIVATE KEY-----
`;
/** `openssl pkey -pubout -outform DER | openssl dgst -sha256 -binary | base64url` */
export const FIXED_EC_KID = 'YHKYobE4_1pApjcsaZMYHs6xCaN9c9BCX07LBazhlGU';

/** A fresh P-256 key as pkg/pki writes it (PKCS#8 private, SPKI public). */
export function ecKeyPem(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function rsaKeyPem(modulusLength = 2048): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength });
  return {
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function newEcSigningKey(): SigningKey {
  return loadSigningKey(ecKeyPem().privatePem);
}

/** A clock the test moves by hand. */
export class TestClock {
  constructor(private ms = Date.parse('2026-11-29T12:00:00Z')) {}
  now = (): Date => new Date(this.ms);
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
}

/** Objects by namespace/name (nodes by name), changed by the tests to delete and recreate them. */
export class MemoryObjects implements BoundObjectLookup {
  readonly serviceAccounts = new Map<string, ServiceAccount>();
  readonly pods = new Map<string, Pod>();
  readonly secrets = new Map<string, Secret>();
  readonly nodes = new Map<string, Node>();
  failWith: Error | undefined;

  private check(): void {
    if (this.failWith !== undefined) throw this.failWith;
  }
  serviceAccount(namespace: string, name: string): Promise<ServiceAccount | undefined> {
    this.check();
    return Promise.resolve(this.serviceAccounts.get(`${namespace}/${name}`));
  }
  pod(namespace: string, name: string): Promise<Pod | undefined> {
    this.check();
    return Promise.resolve(this.pods.get(`${namespace}/${name}`));
  }
  secret(namespace: string, name: string): Promise<Secret | undefined> {
    this.check();
    return Promise.resolve(this.secrets.get(`${namespace}/${name}`));
  }
  node(name: string): Promise<Node | undefined> {
    this.check();
    return Promise.resolve(this.nodes.get(name));
  }

  addServiceAccount(namespace: string, name: string, uid: string): ServiceAccount {
    const sa: ServiceAccount = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { namespace, name, uid } };
    this.serviceAccounts.set(`${namespace}/${name}`, sa);
    return sa;
  }
  addPod(namespace: string, name: string, more: { uid: string; serviceAccountName?: string; nodeName?: string }): Pod {
    const pod: Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { namespace, name, uid: more.uid },
      spec: { containers: [], serviceAccountName: more.serviceAccountName ?? 'default', nodeName: more.nodeName },
    };
    this.pods.set(`${namespace}/${name}`, pod);
    return pod;
  }
  addSecret(namespace: string, name: string, uid: string): Secret {
    const secret: Secret = { apiVersion: 'v1', kind: 'Secret', metadata: { namespace, name, uid } };
    this.secrets.set(`${namespace}/${name}`, secret);
    return secret;
  }
  addNode(name: string, uid: string): Node {
    const node: Node = { apiVersion: 'v1', kind: 'Node', metadata: { name, uid } };
    this.nodes.set(name, node);
    return node;
  }
}

// ---- a world to issue and verify tokens in ------------------------------------------------

/** Objects, a key, a signer and the verifier options of one test. */
export interface World {
  clock: TestClock;
  objects: MemoryObjects;
  key: SigningKey;
  signer: TokenSigner;
  verifierOptions: TokenVerifierOptions;
}

export function world(key: SigningKey = newEcSigningKey()): World {
  const clock = new TestClock();
  const objects = new MemoryObjects();
  objects.addServiceAccount('team', 'builder', 'sa-uid-1');
  objects.addNode('node-a', 'node-uid-1');
  objects.addPod('team', 'web-0', { uid: 'pod-uid-1', serviceAccountName: 'builder', nodeName: 'node-a' });
  objects.addSecret('team', 'builder-token', 'secret-uid-1');
  const signer = createTokenSigner({ signingKey: key, issuer: DEFAULT_ISSUER });
  const verifierOptions: TokenVerifierOptions = {
    keys: [signer.verificationKey],
    issuers: [DEFAULT_ISSUER],
    audiences: [DEFAULT_ISSUER],
    lookup: objects,
    now: clock.now,
  };
  return { clock, objects, key, signer, verifierOptions };
}

/** A token for team/builder, bound to pod web-0 on node-a unless told otherwise. */
export async function issue(
  w: World,
  more: { boundTo?: BoundObjects; audiences?: string[]; expirationSeconds?: number; signer?: TokenSigner } = {},
): Promise<{ token: string; claims: TokenClaims }> {
  return (more.signer ?? w.signer).issue({
    namespace: 'team',
    serviceAccount: { name: 'builder', uid: 'sa-uid-1' },
    audiences: more.audiences ?? [DEFAULT_ISSUER],
    expirationSeconds: more.expirationSeconds ?? 3600,
    boundTo: more.boundTo ?? { pod: { name: 'web-0', uid: 'pod-uid-1' }, node: { name: 'node-a', uid: 'node-uid-1' } },
    now: w.clock.now(),
  });
}

export function refusal(result: VerifyResult): { foreign: boolean; reason: string } {
  assert.equal(result.ok, false, 'the token should have been refused');
  return result.ok ? { foreign: false, reason: '' } : { foreign: result.foreign, reason: result.reason };
}

export function b64(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
