// ClusterRole aggregation (Kubernetes' clusterrole-aggregation controller): a ClusterRole with
// an aggregationRule gets, as its rules, the union of the rules of the ClusterRoles its
// selectors match. Any ClusterRole change re-checks every aggregated role, since a label or
// rule change anywhere may change a union; aggregated roles that feed others (edit → admin)
// settle over successive passes.

import { isDeepStrictEqual } from 'node:util';
import { aggregatedRules } from '../../api/rbac-aggregation.js';
import { RESOURCES } from '../../api/registry.js';
import type { ClusterRole } from '../../api/types/index.js';
import type { Informer, RestClient } from '../../client/index.js';
import { isConflict, isNotFound } from '../../errors/index.js';
import { ReconcileLoop } from '../reconciler.js';

export interface ClusterRoleAggregationOptions {
  client: RestClient;
  clusterRoles: Informer<ClusterRole>;
  log: (m: string) => void;
}

export class ClusterRoleAggregationController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly roles: Informer<ClusterRole>;

  constructor(opts: ClusterRoleAggregationOptions) {
    this.client = opts.client;
    this.roles = opts.clusterRoles;
    this.loop = new ReconcileLoop('clusterrole-aggregation', (name) => this.reconcile(name), { log: opts.log });
    const enqueueAggregated = (): void => {
      for (const r of this.roles.list()) if (r.aggregationRule !== undefined) this.loop.enqueue(r.metadata.name ?? '');
    };
    this.roles.addHandler({ onAdd: enqueueAggregated, onUpdate: enqueueAggregated, onDelete: enqueueAggregated });
  }

  async reconcile(name: string): Promise<void> {
    const role = this.roles.get(name);
    if (role === undefined) return;
    const rules = aggregatedRules(role, this.roles.list());
    if (rules === undefined || isDeepStrictEqual(rules, role.rules ?? [])) return;
    try {
      await this.client.patch(RESOURCES.clusterroles, name, {
        type: 'merge',
        body: { metadata: { resourceVersion: role.metadata.resourceVersion }, rules },
      });
    } catch (err) {
      // A newer version is on its way through the informer, which enqueues the role again.
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }
}
