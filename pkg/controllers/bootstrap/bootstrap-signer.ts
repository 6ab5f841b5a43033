// Bootstrap signer (Kubernetes' bootstrapsigner controller): keeps one `jws-kubeconfig-<id>`
// signature in `kube-public/cluster-info` for every live bootstrap token allowed to sign, and
// none for tokens that expired, were deleted or may not sign. A joining node that finds no
// valid signature for its token refuses to trust the cluster.

import { isDeepStrictEqual } from 'node:util';
import { RESOURCES } from '../../api/registry.js';
import type { ConfigMap, Secret } from '../../api/types/index.js';
import {
  CLUSTER_INFO,
  isExpired,
  JWS_KEY_PREFIX,
  parseBootstrapTokenSecret,
  signDetached,
} from '../../bootstrap/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isConflict, isNotFound } from '../../errors/index.js';
import { ReconcileLoop, type ControllerContext, type ReconcileResult } from '../reconciler.js';

const CONFIGMAPS = RESOURCES.configmaps;
const KEY = `${CLUSTER_INFO.namespace}/${CLUSTER_INFO.name}`;

export class BootstrapSignerController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly configMaps: Informer<ConfigMap>;
  private readonly secrets: Informer<Secret>;
  private readonly now: () => Date;

  constructor(
    deps: ControllerContext & { configMaps: Informer<ConfigMap>; secrets: Informer<Secret>; now?: () => Date },
  ) {
    const { client, configMaps, secrets, log } = deps;
    this.client = client;
    this.configMaps = configMaps;
    this.secrets = secrets;
    this.now = deps.now ?? (() => new Date());
    this.loop = new ReconcileLoop('bootstrapsigner', () => this.reconcile(), { log });
    const onConfigMap = (cm: Readonly<ConfigMap>): void => {
      if (`${cm.metadata.namespace}/${cm.metadata.name}` === KEY) this.loop.enqueue(KEY);
    };
    configMaps.addHandler({ onAdd: onConfigMap, onUpdate: (_o, n) => onConfigMap(n) });
    const onSecret = (s: Readonly<Secret>): void => {
      if (s.metadata.namespace === 'kube-system' && parseBootstrapTokenSecret(s) !== undefined) this.loop.enqueue(KEY);
    };
    secrets.addHandler({ onAdd: onSecret, onUpdate: (_o, n) => onSecret(n), onDelete: onSecret });
  }

  async reconcile(): Promise<ReconcileResult | undefined> {
    const cm = this.configMaps.get(KEY);
    if (cm === undefined) return;
    const data = cm.data ?? {};
    const content = data['kubeconfig'];
    if (content === undefined) return;
    const now = this.now();
    const wanted: Record<string, string> = {};
    let nextExpiry: number | undefined;
    for (const s of this.secrets.list()) {
      if (s.metadata.namespace !== 'kube-system') continue;
      const token = parseBootstrapTokenSecret(s);
      if (token === undefined || token.deleting || !token.usages.includes('signing') || isExpired(token, now)) continue;
      wanted[`${JWS_KEY_PREFIX}${token.id}`] = await signDetached(content, token.id, token.secret);
      if (token.expiration !== undefined) nextExpiry = Math.min(nextExpiry ?? Infinity, token.expiration.getTime());
    }
    const current = Object.fromEntries(Object.entries(data).filter(([k]) => k.startsWith(JWS_KEY_PREFIX)));
    if (!isDeepStrictEqual(current, wanted)) {
      const next: ConfigMap = structuredClone(cm);
      next.data = { kubeconfig: content, ...wanted };
      try {
        await this.client.update(CONFIGMAPS, next);
      } catch (err) {
        if (!isConflict(err) && !isNotFound(err)) throw err;
        return { requeueAfterMs: 100 };
      }
    }
    // Expiry produces no watch event: look again when the next token runs out.
    return nextExpiry === undefined ? undefined : { requeueAfterMs: Math.max(100, nextExpiry - now.getTime() + 50) };
  }
}
