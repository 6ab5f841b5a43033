// HorizontalPodAutoscaler controller (autoscaling/v2), after Kubernetes' podautoscaler: every
// sync period it reads the target's scale subresource (current replicas and pod selector), the
// pods and their resource metrics (metrics.k8s.io), asks each metric for a replica count
// (replicas.ts), takes the largest, stabilizes and rate-limits it (behavior.ts), writes the
// scale when it changed, and reports what it saw in status (currentMetrics, conditions
// AbleToScale / ScalingActive / ScalingLimited) and in Events with Kubernetes' reasons and
// messages (SuccessfulRescale "New size: N; reason: …", FailedGetScale, FailedGetResourceMetric …).

import { isDeepStrictEqual } from 'node:util';
import { deepCopy, objectKey, rfc3339 } from '../../api/meta.js';
import { findByKind, hasSubresource, RESOURCES } from '../../api/registry.js';
import { matchesLabels, parseLabelSelector } from '../../api/selectors.js';
import type {
  HorizontalPodAutoscaler,
  HorizontalPodAutoscalerCondition,
  HorizontalPodAutoscalerStatus,
  MetricSpec,
  MetricStatus,
  Pod,
  PodMetrics,
  Scale,
} from '../../api/types/index.js';
import type { EventSink, Informer, RestClient } from '../../client/index.js';
import { errorMessage, isNotFound } from '../../errors/index.js';
import { eventsFor, ReconcileLoop, type ControllerContext } from '../reconciler.js';
import { History, normalize, withDefaults, DEFAULT_DOWNSCALE_STABILIZATION_SECONDS } from './behavior.js';
import { DEFAULT_TOLERANCE, replicasFor } from './replicas.js';
import { amount, formatAmount, metricName, podInfo, samplesOf } from './pod-metrics.js';

const HPAS = RESOURCES.horizontalpodautoscalers;

export interface PodAutoscalerOptions {
  /** --horizontal-pod-autoscaler-sync-period (default 15 s). */
  syncPeriodMs: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization (default 300 s). */
  downscaleStabilizationSeconds: number;
  /** --horizontal-pod-autoscaler-tolerance (default 0.1). */
  tolerance: number;
}

export const DEFAULT_POD_AUTOSCALER_OPTIONS: PodAutoscalerOptions = {
  syncPeriodMs: 15_000,
  downscaleStabilizationSeconds: DEFAULT_DOWNSCALE_STABILIZATION_SECONDS,
  tolerance: DEFAULT_TOLERANCE,
};

type ConditionType = HorizontalPodAutoscalerCondition['type'];
type Conditions = Map<ConditionType, Omit<HorizontalPodAutoscalerCondition, 'type' | 'lastTransitionTime'>>;

interface MetricResult {
  replicas: number;
  status: MetricStatus;
  name: string;
}

export class HorizontalPodAutoscalerController {
  readonly loop: ReconcileLoop;
  private readonly client: RestClient;
  private readonly hpas: Informer<HorizontalPodAutoscaler>;
  private readonly pods: Informer<Pod>;
  private readonly events: EventSink;
  private readonly options: PodAutoscalerOptions;
  private readonly histories = new Map<string, History>();

  constructor(
    deps: ControllerContext & {
      hpas: Informer<HorizontalPodAutoscaler>;
      pods: Informer<Pod>;
      options?: Partial<PodAutoscalerOptions>;
    },
  ) {
    this.client = deps.client;
    this.hpas = deps.hpas;
    this.pods = deps.pods;
    this.events = eventsFor(deps, 'horizontal-pod-autoscaler');
    this.options = { ...DEFAULT_POD_AUTOSCALER_OPTIONS, ...deps.options };
    this.loop = new ReconcileLoop('horizontal-pod-autoscaler', (key) => this.reconcile(key), { log: deps.log });
    this.hpas.addHandler({
      onAdd: (h) => this.loop.enqueue(objectKey(h)),
      onUpdate: (o, h) => {
        // Our own status writes do not call for a sync before the period is up.
        if (!isDeepStrictEqual(o.spec, h.spec)) this.loop.enqueue(objectKey(h));
      },
      onDelete: (h) => this.histories.delete(objectKey(h)),
    });
  }

  async reconcile(key: string): Promise<{ requeueAfterMs: number } | undefined> {
    const hpa = this.hpas.get(key);
    if (hpa === undefined) {
      this.histories.delete(key);
      return undefined;
    }
    if (hpa.metadata.deletionTimestamp !== undefined) return undefined;
    await this.sync(hpa, key);
    return { requeueAfterMs: this.options.syncPeriodMs };
  }

  private async sync(hpa: Readonly<HorizontalPodAutoscaler>, key: string): Promise<void> {
    const spec = hpa.spec;
    if (spec === undefined) return;
    const namespace = hpa.metadata.namespace ?? '';
    const conditions: Conditions = new Map();
    const status: HorizontalPodAutoscalerStatus = {
      ...(hpa.status?.lastScaleTime !== undefined && { lastScaleTime: hpa.status.lastScaleTime }),
      currentReplicas: hpa.status?.currentReplicas ?? 0,
      desiredReplicas: hpa.status?.desiredReplicas ?? 0,
      ...(hpa.status?.currentMetrics !== undefined && { currentMetrics: hpa.status.currentMetrics }),
    };
    const ref = spec.scaleTargetRef;
    const target = findByKind(ref.apiVersion ?? '', ref.kind);
    let scale: Scale;
    try {
      if (target === undefined || !hasSubresource(target, 'scale'))
        throw new Error(
          `no matches for kind "${ref.kind}" in group "${(ref.apiVersion ?? '').split('/').slice(0, -1).join('/')}"`,
        );
      scale = await this.client.getSubresource(target, ref.name, { namespace, subresource: 'scale' });
    } catch (err) {
      this.events.warning(hpa, 'FailedGetScale', errorMessage(err));
      conditions.set('AbleToScale', {
        status: 'False',
        reason: 'FailedGetScale',
        message: `the HPA controller was unable to get the target's current scale: ${errorMessage(err)}`,
      });
      await this.writeStatus(hpa, status, conditions);
      return;
    }
    const currentReplicas = scale.spec?.replicas ?? 0;
    status.currentReplicas = scale.status?.replicas ?? currentReplicas;
    const minReplicas = spec.minReplicas ?? 1;
    let desired = currentReplicas;
    let reason = '';
    if (currentReplicas === 0 && minReplicas !== 0) {
      desired = 0;
      conditions.set('ScalingActive', {
        status: 'False',
        reason: 'ScalingDisabled',
        message: 'scaling is disabled since the replica count of the target is zero',
      });
    } else if (currentReplicas > spec.maxReplicas) {
      desired = spec.maxReplicas;
      reason = 'Current number of replicas above Spec.MaxReplicas';
    } else if (currentReplicas < minReplicas) {
      desired = minReplicas;
      reason = 'Current number of replicas below Spec.MinReplicas';
    } else {
      const computed = await this.computeReplicas(hpa, { scale, currentReplicas, conditions });
      if (computed === undefined) {
        await this.writeStatus(hpa, { ...status, desiredReplicas: currentReplicas }, conditions);
        return;
      }
      status.currentMetrics = computed.metrics;
      const history = this.histories.get(key) ?? new History();
      this.histories.set(key, history);
      const limited = normalize(
        {
          currentReplicas,
          desiredReplicas: computed.replicas,
          minReplicas,
          maxReplicas: spec.maxReplicas,
          behavior: withDefaults(spec.behavior, this.options.downscaleStabilizationSeconds),
          nowMs: Date.now(),
        },
        history,
      );
      desired = limited.replicas;
      reason = computed.replicas > currentReplicas ? `${computed.name} above target` : 'All metrics below target';
      conditions.set('ScalingLimited', {
        status: limited.reason === 'DesiredWithinRange' ? 'False' : 'True',
        reason: limited.reason,
        message: limited.message,
      });
    }
    status.desiredReplicas = desired;
    if (desired !== currentReplicas && target !== undefined) {
      try {
        await this.client.update(
          target,
          { ...scale, apiVersion: 'autoscaling/v1', kind: 'Scale', spec: { replicas: desired } },
          { subresource: 'scale', namespace },
        );
      } catch (err) {
        this.events.warning(
          hpa,
          'FailedRescale',
          `New size: ${desired}; reason: ${reason}; error: ${errorMessage(err)}`,
        );
        conditions.set('AbleToScale', {
          status: 'False',
          reason: 'FailedUpdateScale',
          message: `the HPA controller was unable to update the target scale: ${errorMessage(err)}`,
        });
        await this.writeStatus(hpa, { ...status, desiredReplicas: currentReplicas }, conditions);
        return;
      }
      const now = Date.now();
      this.histories.get(key)?.recordScale(currentReplicas, desired, now);
      this.events.normal(hpa, 'SuccessfulRescale', `New size: ${desired}; reason: ${reason}`);
      conditions.set('AbleToScale', {
        status: 'True',
        reason: 'SucceededRescale',
        message: `the HPA controller was able to update the target scale to ${desired}`,
      });
      status.lastScaleTime = rfc3339(now);
    } else {
      conditions.set('AbleToScale', {
        status: 'True',
        reason: 'ReadyForNewScale',
        message: 'recommended size matches current size',
      });
    }
    await this.writeStatus(hpa, status, conditions);
  }

  /** The largest replica count the metrics ask for, or undefined (with ScalingActive False) when none can say. */
  private async computeReplicas(
    hpa: Readonly<HorizontalPodAutoscaler>,
    at: { scale: Scale; currentReplicas: number; conditions: Conditions },
  ): Promise<{ replicas: number; name: string; metrics: MetricStatus[] } | undefined> {
    const { scale, currentReplicas, conditions } = at;
    const namespace = hpa.metadata.namespace ?? '';
    const selectorText = scale.status?.selector ?? '';
    if (selectorText === '') {
      this.events.warning(hpa, 'SelectorRequired', 'selector is required');
      conditions.set('ScalingActive', {
        status: 'False',
        reason: 'InvalidSelector',
        message: "the HPA target's scale is missing a selector",
      });
      return undefined;
    }
    let selector;
    try {
      selector = parseLabelSelector(selectorText);
    } catch (err) {
      this.events.warning(
        hpa,
        'InvalidSelector',
        `couldn't convert selector into a corresponding internal selector object: ${errorMessage(err)}`,
      );
      conditions.set('ScalingActive', { status: 'False', reason: 'InvalidSelector', message: errorMessage(err) });
      return undefined;
    }
    const pods = this.pods.byIndex('namespace', namespace).filter((p) => matchesLabels(selector, p.metadata.labels));
    const metricSpecs = hpa.spec?.metrics ?? [];
    let podMetrics: PodMetrics[] | undefined;
    let best: MetricResult | undefined;
    const metricsStatus: MetricStatus[] = [];
    const failures: { reason: string; message: string }[] = [];
    for (const spec of metricSpecs) {
      const source =
        spec.type === 'Resource'
          ? spec.resource
          : spec.type === 'ContainerResource'
            ? spec.containerResource
            : undefined;
      if (source === undefined) {
        failures.push({
          reason: 'InvalidMetricSourceType',
          message: `the HPA was unable to compute the replica count: metric source type ${spec.type} is not supported`,
        });
        continue;
      }
      const container = spec.type === 'ContainerResource' ? spec.containerResource?.container : undefined;
      const what =
        source.target.type === 'Utilization' ? `${source.name} utilization` : `${source.name} resource metric value`;
      try {
        podMetrics ??= (await this.client.list(RESOURCES.podmetrics, { namespace, labelSelector: selectorText })).items;
        const result = this.metricReplicas({ source, container, pods, podMetrics, currentReplicas });
        const status: MetricStatus =
          container === undefined
            ? { type: 'Resource', resource: { name: source.name, current: result.current } }
            : {
                type: 'ContainerResource',
                containerResource: { name: source.name, container, current: result.current },
              };
        if (best === undefined || result.replicas > best.replicas)
          best = { replicas: result.replicas, status, name: metricName(spec) };
        metricsStatus.push(status);
      } catch (err) {
        const message = `failed to get ${what}: ${errorMessage(err)}`;
        this.events.warning(hpa, 'FailedGetResourceMetric', message);
        failures.push({
          reason: 'FailedGetResourceMetric',
          message: `the HPA was unable to compute the replica count: ${message}`,
        });
      }
    }
    const first = failures[0];
    if (best === undefined || first !== undefined) {
      if (first !== undefined) {
        this.events.warning(
          hpa,
          'FailedComputeMetricsReplicas',
          `invalid metrics (${failures.length} invalid out of ${metricSpecs.length}), first error is: ${first.message.replace('the HPA was unable to compute the replica count: ', '')}`,
        );
        conditions.set('ScalingActive', { status: 'False', ...first });
      }
      // Kubernetes scales on the valid metrics only when none of them asks to scale down.
      if (best === undefined || best.replicas < currentReplicas) return undefined;
    } else {
      conditions.set('ScalingActive', {
        status: 'True',
        reason: 'ValidMetricFound',
        message: `the HPA was able to successfully calculate a replica count from ${best.name}`,
      });
    }
    return { replicas: best.replicas, name: best.name, metrics: metricsStatus };
  }

  /** One resource metric's replica count and its current value for status. */
  private metricReplicas(input: {
    source: NonNullable<MetricSpec['resource']>;
    container: string | undefined;
    pods: readonly Readonly<Pod>[];
    podMetrics: readonly PodMetrics[];
    currentReplicas: number;
  }): { replicas: number; current: NonNullable<MetricStatus['resource']>['current'] } {
    const { source, container, currentReplicas } = input;
    const resource = source.name;
    const targetSpec = source.target;
    const target =
      targetSpec.type === 'Utilization'
        ? { utilization: targetSpec.averageUtilization ?? 0 }
        : { averageValue: amount(resource, targetSpec.averageValue ?? targetSpec.value ?? '0') };
    const result = replicasFor({
      currentReplicas,
      pods: input.pods.map((p) => podInfo(p, resource, container)),
      metrics: samplesOf(input.podMetrics, resource, container),
      resource,
      target,
      nowMs: Date.now(),
      tolerance: this.options.tolerance,
    });
    return {
      replicas: result.replicas,
      current: {
        averageValue: formatAmount(resource, result.averageValue),
        ...(result.utilization !== undefined && { averageUtilization: result.utilization }),
      },
    };
  }

  /** Writes status when it changed; a condition keeps its lastTransitionTime while its status stays. */
  private async writeStatus(
    hpa: Readonly<HorizontalPodAutoscaler>,
    status: HorizontalPodAutoscalerStatus,
    conditions: Conditions,
  ): Promise<void> {
    const now = rfc3339(new Date());
    const previous = hpa.status?.conditions ?? [];
    const merged: HorizontalPodAutoscalerCondition[] = [];
    for (const type of ['AbleToScale', 'ScalingActive', 'ScalingLimited'] as const) {
      const next = conditions.get(type);
      const old = previous.find((c) => c.type === type);
      if (next === undefined) {
        if (old !== undefined) merged.push(old);
        continue;
      }
      const since = old !== undefined && old.status === next.status ? old.lastTransitionTime : now;
      merged.push({ type, ...next, ...(since !== undefined && { lastTransitionTime: since }) });
    }
    const next: HorizontalPodAutoscaler = deepCopy(hpa);
    next.status = {
      ...status,
      ...(hpa.metadata.generation !== undefined && { observedGeneration: hpa.metadata.generation }),
      conditions: merged,
    };
    if (isDeepStrictEqual(next.status, hpa.status)) return;
    try {
      await this.client.updateStatus(HPAS, next);
    } catch (err) {
      // Deleted meanwhile: nothing to report on.
      if (!isNotFound(err)) throw err;
    }
  }
}
