// Token cleaner (Kubernetes' tokencleaner controller): deletes bootstrap token Secrets once
// they expire. (Authentication already refuses an expired token; this keeps the store tidy.)

import { parseBootstrapTokenSecret } from '../../bootstrap/index.js';
import { RESOURCES } from '../../api/registry.js';
import type { Secret } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isNotFound } from '../../errors/index.js';
import { ReconcileLoop, type ControllerContext, type ReconcileResult } from '../reconciler.js';

const SECRETS = RESOURCES.secrets;

export class TokenCleanerController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly secrets: Informer<Secret>;
  private readonly now: () => Date;

  constructor(deps: ControllerContext & { secrets: Informer<Secret>; now?: () => Date }) {
    const { client, secrets, log } = deps;
    this.client = client;
    this.secrets = secrets;
    this.now = deps.now ?? (() => new Date());
    this.loop = new ReconcileLoop('tokencleaner', (key) => this.reconcile(key), { log });
    const enqueue = (s: { metadata: { namespace?: string; name?: string } }): void => {
      if (s.metadata.namespace === 'kube-system') this.loop.enqueue(`kube-system/${s.metadata.name ?? ''}`);
    };
    secrets.addHandler({ onAdd: enqueue, onUpdate: (_o, n) => enqueue(n) });
  }

  async reconcile(key: string): Promise<ReconcileResult | undefined> {
    const secret = this.secrets.get(key);
    const token = secret === undefined ? undefined : parseBootstrapTokenSecret(secret);
    if (token === undefined || token.expiration === undefined || token.deleting) return;
    const left = token.expiration.getTime() - this.now().getTime();
    if (left > 0) return { requeueAfterMs: left + 50 };
    try {
      await this.client.delete(SECRETS, secret?.metadata.name ?? '', {
        namespace: 'kube-system',
        preconditions: { uid: secret?.metadata.uid ?? '' },
      });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
