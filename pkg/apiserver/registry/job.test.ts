// The Job strategy's generated selector and the ReplicationController's defaults and
// validation, pure: objects in, causes out.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyDefaults } from '../../api/defaults.js';
import { isObject, type KubeObject } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import { defaultStrategy } from './default.js';
import { jobStrategy } from './job.js';

const UID = '0b5d3c52-1111-4222-8333-944455556666';

function job(spec: Record<string, unknown>, uid = UID): KubeObject {
  const obj: KubeObject = {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'pi', namespace: 'default', uid },
    spec: {
      template: { spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'busybox' }] } },
      ...spec,
    },
  };
  applyDefaults(obj);
  return obj;
}

/** A nested object of a plain JSON object (asserted to be there). */
function at(obj: unknown, key: string): Record<string, unknown> {
  const v = isObject(obj) ? obj[key] : undefined;
  assert.ok(isObject(v), `no object at ${key}`);
  return v;
}

function fields(causes: { field?: string }[]): string[] {
  return causes.map((c) => c.field ?? '');
}

describe('Job selector', () => {
  test('is generated from the uid, with the uid and name labels on the template and the Job', () => {
    const obj = job({});
    assert.deepEqual(jobStrategy.validate(RESOURCES.jobs, obj), []);
    const spec = at(obj, 'spec');
    assert.deepEqual(spec['selector'], { matchLabels: { 'batch.kubernetes.io/controller-uid': UID } });
    const labels = {
      'batch.kubernetes.io/job-name': 'pi',
      'job-name': 'pi',
      'batch.kubernetes.io/controller-uid': UID,
      'controller-uid': UID,
    };
    assert.deepEqual(at(spec, 'template')['metadata'], { labels });
    assert.deepEqual(obj.metadata.labels, labels);
  });

  test('written by hand is refused unless manualSelector', () => {
    const handWritten = job({
      selector: { matchLabels: { app: 'x' } },
      template: {
        metadata: { labels: { app: 'y' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'busybox' }] },
      },
    });
    const causes = jobStrategy.validate(RESOURCES.jobs, handWritten);
    assert.ok(fields(causes).includes('spec.selector'));
    assert.ok(causes.some((c) => c.message?.includes('`selector` not auto-generated')));
    assert.ok(fields(causes).includes('spec.template.metadata.labels'), 'nor does it match the template');

    const manual = job({
      manualSelector: true,
      selector: { matchLabels: { app: 'x' } },
      template: {
        metadata: { labels: { app: 'x' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'busybox' }] },
      },
    });
    assert.deepEqual(jobStrategy.validate(RESOURCES.jobs, manual), []);
    assert.deepEqual(at(manual, 'spec')['selector'], { matchLabels: { app: 'x' } });
  });

  test('a template label claiming another uid is refused', () => {
    const forged = job({
      template: {
        metadata: { labels: { 'controller-uid': 'someone-else' } },
        spec: { restartPolicy: 'Never', containers: [{ name: 'pi', image: 'busybox' }] },
      },
    });
    assert.ok(
      fields(jobStrategy.validate(RESOURCES.jobs, forged)).includes('spec.template.metadata.labels[controller-uid]'),
    );
  });

  test('an Indexed Job needs completions, at most 100000', () => {
    assert.ok(
      fields(jobStrategy.validate(RESOURCES.jobs, job({ completionMode: 'Indexed', parallelism: 2 }))).includes(
        'spec.completions',
      ),
    );
    assert.ok(
      fields(jobStrategy.validate(RESOURCES.jobs, job({ completionMode: 'Indexed', completions: 100_001 }))).includes(
        'spec.completions',
      ),
    );
    assert.deepEqual(jobStrategy.validate(RESOURCES.jobs, job({ completionMode: 'Indexed', completions: 3 })), []);
    assert.ok(
      fields(jobStrategy.validate(RESOURCES.jobs, job({ completionMode: 'Sideways' }))).includes('spec.completionMode'),
    );
  });
});

describe('ReplicationController', () => {
  function rc(spec: Record<string, unknown>): KubeObject {
    const obj: KubeObject = {
      apiVersion: 'v1',
      kind: 'ReplicationController',
      metadata: { name: 'web', namespace: 'default' },
      spec,
    };
    applyDefaults(obj);
    return obj;
  }
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };

  test('takes its selector, labels and one replica from the template', () => {
    const obj = rc({ template });
    assert.deepEqual(defaultStrategy.validate(RESOURCES.replicationcontrollers, obj), []);
    const spec = at(obj, 'spec');
    assert.deepEqual(spec['selector'], { app: 'web' });
    assert.equal(spec['replicas'], 1);
    assert.deepEqual(obj.metadata.labels, { app: 'web' });
  });

  test('refuses a selector its template does not match, no template, and a negative count', () => {
    const causes = defaultStrategy.validate(
      RESOURCES.replicationcontrollers,
      rc({ selector: { app: 'db' }, template, replicas: -1 }),
    );
    assert.deepEqual(fields(causes).sort(), ['spec.replicas', 'spec.template.metadata.labels']);
    assert.deepEqual(fields(defaultStrategy.validate(RESOURCES.replicationcontrollers, rc({}))).sort(), [
      'spec.selector',
      'spec.template',
    ]);
  });
});
