// The kubelet's metrics paths on its HTTPS port (which only the apiserver's kubelet-client
// certificate may use): `/metrics/resource` and `/stats/summary` from the resource sampler,
// and `/metrics`, the agent's own Prometheus metrics under the kubelet's names.

import type { ServerResponse } from 'node:http';
import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { renderResourceMetrics, renderSummary } from './render.js';
import type { ResourceSampler } from './sampler.js';

export class MetricsEndpoints {
  private readonly registry = new Registry();

  constructor(private readonly sampler: ResourceSampler) {
    collectDefaultMetrics({ register: this.registry });
    const snapshot = (): ReturnType<ResourceSampler['snapshot']> => this.sampler.snapshot();
    new Gauge({
      name: 'kubelet_running_pods',
      help: '[ALPHA] Number of pods that have a running pod sandbox',
      registers: [this.registry],
      collect() {
        this.set(snapshot().pods.length);
      },
    });
    new Gauge({
      name: 'kubelet_running_containers',
      help: '[ALPHA] Number of containers currently running',
      labelNames: ['container_state'],
      registers: [this.registry],
      collect() {
        this.set(
          { container_state: 'running' },
          snapshot().pods.reduce((n, p) => n + p.containers.length, 0),
        );
      },
    });
  }

  /** Answers a GET of one of its paths; false for any other path. */
  async serve(path: string, res: ServerResponse): Promise<boolean> {
    if (path === '/metrics/resource') {
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' });
      res.end(renderResourceMetrics(this.sampler.snapshot()));
      return true;
    }
    if (path === '/stats/summary') {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(renderSummary(this.sampler.snapshot())));
      return true;
    }
    if (path === '/metrics') {
      res.writeHead(200, { 'Content-Type': this.registry.contentType });
      res.end(await this.registry.metrics());
      return true;
    }
    return false;
  }
}
