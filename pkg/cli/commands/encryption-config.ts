// coxctl encryption-config: the --encryption-provider-config file of the apiserver, made
// and rotated offline (pkg/storage/encryption's generator). The file holds keys: written
// 0600. Rotation puts a new key first (it encrypts every write from the apiserver's next
// start) and keeps the old ones for reads; rewriting every Secret then completes it:
// `coxctl get secrets -A -o json | coxctl replace -f -` (or kubectl).

import { chmodSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import {
  generateEncryptionConfig,
  parseEncryptionConfiguration,
  providerKeys,
  rotateEncryptionConfig,
  type EncryptingProvider,
  type EncryptionConfiguration,
} from '../../storage/encryption/index.js';
import type { CliContext } from '../context.js';

const PROVIDERS: readonly EncryptingProvider[] = ['secretbox', 'aescbc', 'aesgcm'];

function providerOf(flag: string | undefined): EncryptingProvider {
  if (flag === undefined) return 'secretbox';
  const found = PROVIDERS.find((p) => p === flag);
  if (found === undefined) throw new Error(`error: --provider must be one of ${PROVIDERS.join(', ')}, not "${flag}"`);
  return found;
}

/** Writes a secret file 0600, replacing any older file at once (and narrowing its mode). */
function writeSecretFile(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** key1, key2, …: one more than the highest `key<N>` the config names. */
export function nextKeyName(config: EncryptionConfiguration): string {
  const names = new Set<string>();
  for (const entry of config.resources)
    for (const p of entry.providers) for (const k of providerKeys(p).keys) names.add(k.name);
  let n = 1;
  for (const name of names) {
    const m = /^key(\d+)$/.exec(name);
    if (m !== null) n = Math.max(n, Number(m[1]) + 1);
  }
  while (names.has(`key${n}`)) n++;
  return `key${n}`;
}

export function runEncryptionConfigGenerate(
  ctx: CliContext,
  flags: { provider?: string; output?: string; resource?: string[]; keyName?: string },
): void {
  const text = generateEncryptionConfig({
    provider: providerOf(flags.provider),
    ...(flags.resource === undefined ? {} : { resources: flags.resource }),
    ...(flags.keyName === undefined ? {} : { keyName: flags.keyName }),
  });
  if (flags.output === undefined) {
    ctx.out(text);
    return;
  }
  writeSecretFile(flags.output, text);
  ctx.out(`encryption config written to ${flags.output} (mode 0600)`);
}

export function runEncryptionConfigRotate(
  ctx: CliContext,
  flags: { filename: string; provider?: string; output?: string; keyName?: string },
): void {
  const config = parseEncryptionConfiguration(readFileSync(flags.filename, 'utf8'));
  const keyName = flags.keyName ?? nextKeyName(config);
  const text = rotateEncryptionConfig(config, { provider: providerOf(flags.provider), keyName });
  const target = flags.output ?? flags.filename;
  writeSecretFile(target, text);
  ctx.out(`new key ${keyName} first in ${target}; restart the apiserver with it, then rewrite every Secret`);
}
