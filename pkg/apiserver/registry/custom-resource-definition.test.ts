import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareKubeVersions, customResourcesOf } from '../../api/custom-resources.js';
import { readFieldPath, writeFieldPath } from '../../api/field-path.js';
import type { KubeObject } from '../../api/meta.js';
import { RESOURCES } from '../../api/registry.js';
import type { CustomResourceDefinition } from '../../api/types/apiextensions.js';
import { CRD_CLEANUP_FINALIZER, crdStrategy } from './custom-resource-definition.js';

const R = RESOURCES.customresourcedefinitions;

function crd(change: (c: CustomResourceDefinition) => void = () => undefined): CustomResourceDefinition {
  const c: CustomResourceDefinition = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: 'widgets.example.com' },
    spec: {
      group: 'example.com',
      scope: 'Namespaced',
      names: { plural: 'widgets', kind: 'Widget' },
      versions: [
        { name: 'v1beta1', served: true, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
        {
          name: 'v1',
          served: true,
          storage: true,
          schema: { openAPIV3Schema: { type: 'object' } },
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas' },
          },
        },
        { name: 'v2alpha1', served: false, storage: false, schema: { openAPIV3Schema: { type: 'object' } } },
      ],
    },
  };
  change(c);
  return c;
}

const messages = (obj: KubeObject): string[] => {
  crdStrategy.normalize(obj);
  return crdStrategy.validate(R, obj).map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);
};

test('a valid CRD passes, is defaulted, and gets NamesAccepted and Established', () => {
  const c = crd();
  assert.deepEqual(messages(c), []);
  assert.equal(c.spec.names.singular, 'widget');
  assert.equal(c.spec.names.listKind, 'WidgetList');
  assert.deepEqual(c.spec.conversion, { strategy: 'None' });
  crdStrategy.prepareForCreate(R, c);
  const conditions = (c.status?.conditions ?? []).map((x) => `${x.type}=${x.status}`);
  assert.deepEqual(conditions, ['NamesAccepted=True', 'Established=True']);
  assert.deepEqual(c.status?.storedVersions, ['v1']);
});

test('the name, group, scope, storage versions and scale paths are checked with Kubernetes messages', () => {
  assert.deepEqual(
    messages(
      crd((c) => {
        c.metadata.name = 'widgets.example.org';
        c.spec.scope = 'Global' as 'Cluster';
        c.spec.versions.forEach((v) => (v.storage = true));
        const scale = c.spec.versions[1]?.subresources?.scale;
        if (scale) scale.specReplicasPath = '.status.replicas';
      }),
    ),
    [
      'metadata.name: Invalid value: "widgets.example.org": must be spec.names.plural+"."+spec.group',
      'spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"',
      'spec.versions[1].subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec',
      'spec.versions: Invalid value: ["v1beta1","v1","v2alpha1"]: must have exactly one version marked as storage version',
    ],
  );
  assert.deepEqual(
    messages(
      crd((c) => {
        c.metadata.name = 'widgets.example';
        c.spec.group = 'example';
      }),
    ),
    ['spec.group: Invalid value: "example": should be a domain with at least one dot'],
  );
  assert.match(
    messages(
      crd((c) => {
        c.metadata.name = 'widgets.apps.k8s.io';
        c.spec.group = 'apps.k8s.io';
      }),
    ).join(),
    /metadata\.annotations\[api-approved\.kubernetes\.io\]: Required value: protected groups must have approval annotation/,
  );
  assert.match(messages(crd((c) => (c.spec.conversion = { strategy: 'Webhook' }))).join(), /supported values: "None"/);
});

test('hostile CRD bodies are refused, never thrown on', () => {
  for (const spec of [undefined, 'x', { group: 5, names: [], versions: 'v1' }, { versions: [null, 1, 'a'] }]) {
    const obj: KubeObject = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'x' },
      spec,
    };
    assert.ok(messages(obj).length > 0);
  }
  const columns = crd((c) => {
    const v = c.spec.versions[1];
    if (v) v.additionalPrinterColumns = [{ name: 'A', type: 'float', jsonPath: 'spec..x' }];
  });
  assert.deepEqual(messages(columns), [
    'spec.versions[1].additionalPrinterColumns[0].type: Unsupported value: "float": supported values: "integer", "number", "string", "boolean", "date"',
    'spec.versions[1].additionalPrinterColumns[0].jsonPath: Invalid value: "spec..x": must be a simple JSON path (.field, [index] or [?(@.field=="value")])',
  ]);
});

test('deletion is staged with the cleanup finalizer and a Terminating condition', () => {
  const c = crd();
  crdStrategy.prepareForCreate(R, c);
  assert.equal(crdStrategy.stageDeletion(c, {}, new Date()), true);
  assert.deepEqual(c.metadata.finalizers, [CRD_CLEANUP_FINALIZER]);
  assert.ok(c.status?.conditions?.some((x) => x.type === 'Terminating'));
});

test('served versions become registry entries in Kubernetes version priority; unserved ones do not', () => {
  const entries = customResourcesOf(crd());
  assert.deepEqual(
    entries.map((r) => r.version),
    ['v1', 'v1beta1'],
  );
  assert.deepEqual(
    entries[0]?.subresources.map((s) => s.name),
    ['status', 'scale'],
  );
  assert.deepEqual(
    ['v1alpha1', 'v2', 'foo', 'v1beta2', 'v1', 'v11alpha2', 'v10', 'v1beta1'].sort(compareKubeVersions),
    ['v10', 'v2', 'v1', 'v1beta2', 'v1beta1', 'v11alpha2', 'v1alpha1', 'foo'],
  );
});

test('field paths read and write what printer columns and scale name', () => {
  const obj = {
    status: {
      conditions: [
        { type: 'A', status: 'x' },
        { type: 'Ready', status: 'True' },
      ],
    },
    spec: {},
  };
  assert.equal(readFieldPath(obj, '.status.conditions[?(@.type=="Ready")].status'), 'True');
  assert.equal(readFieldPath(obj, '.status.conditions[0].type'), 'A');
  assert.equal(readFieldPath(obj, '.status.nothing.here'), undefined);
  assert.equal(readFieldPath(obj, '.a..b'), undefined);
  const target: Record<string, unknown> = {};
  assert.equal(writeFieldPath(target, '.spec.scale.replicas', 3), true);
  assert.deepEqual(target, { spec: { scale: { replicas: 3 } } });
  assert.equal(writeFieldPath(target, '.spec.list[0]', 3), false);
  assert.equal(readFieldPath(obj, `.${'a'.repeat(600)}`), undefined);
});
