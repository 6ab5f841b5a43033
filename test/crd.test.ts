// CustomResourceDefinitions end to end with the real kubectl (1.32) and this project's client:
// a CRD is served at once (discovery, OpenAPI, printer columns), its objects are pruned,
// defaulted and validated by the structural schema (422 with field paths), the status and
// scale subresources split what they write, versions convert by apiVersion, RBAC and
// informers treat them like every other resource, deleting the CRD deletes its objects, and bad CRDs
// (not structural, a name that is not <plural>.<group>) are refused.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { KubeObject } from '../pkg/api/meta.js';
import type { ResourceInfo } from '../pkg/api/registry.js';
import { Informer } from '../pkg/client/index.js';
import { adminClient, eventually } from './harness/clients.js';
import { kubectl, startControlPlane, type ControlPlane } from './harness/control-plane.js';

let plane: ControlPlane;
let home: string;

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wg]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: &schema
        type: object
        properties:
          spec:
            type: object
            required: [size]
            properties:
              size: {type: integer, minimum: 1, maximum: 10}
              color: {type: string, enum: [red, blue], default: red}
              label: {type: string, pattern: '^[a-z]+$', maxLength: 8}
              replicas: {type: integer, default: 1}
              tags: {type: array, maxItems: 2, items: {type: string}}
              extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
          status:
            type: object
            properties:
              replicas: {type: integer}
              phase: {type: string}
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Size, type: integer, jsonPath: .spec.size}
    - {name: Color, type: string, jsonPath: .spec.color}
    - {name: Phase, type: string, jsonPath: .status.phase}
  - name: v1beta1
    served: true
    storage: false
    schema:
      openAPIV3Schema: *schema
`;

before(async () => {
  plane = await startControlPlane({ withControllers: true });
  home = mkdtempSync(join(tmpdir(), 'crd-test-'));
});
after(async () => {
  await plane.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

function k(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return kubectl(plane.pki.adminKubeconfig, args, { home });
}

async function ok(...args: string[]): Promise<string> {
  const res = await k(...args);
  assert.equal(res.code, 0, `kubectl ${args.join(' ')} failed: ${res.stderr}`);
  return res.stdout;
}

function file(name: string, text: string): string {
  const p = join(home, name);
  writeFileSync(p, text);
  return p;
}

async function json(...args: string[]): Promise<Record<string, unknown>> {
  const out: unknown = JSON.parse(await ok(...args, '-o', 'json'));
  assert.ok(typeof out === 'object' && out !== null && !Array.isArray(out));
  return { ...out };
}

function at(obj: unknown, ...path: string[]): unknown {
  let v: unknown = obj;
  for (const p of path) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[p] : undefined;
  return v;
}

const widget = (name: string, spec: string): string =>
  `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: ${name}, namespace: default}\nspec: ${spec}\n`;

test('a CRD is established and served at once: discovery, explain, empty list', async () => {
  await ok('apply', '-f', file('crd.yaml', CRD));
  const crd = await json('get', 'crd', 'widgets.example.com');
  const conditions = at(crd, 'status', 'conditions');
  assert.ok(Array.isArray(conditions));
  for (const type of ['NamesAccepted', 'Established'])
    assert.ok(
      conditions.some((c) => at(c, 'type') === type && at(c, 'status') === 'True'),
      `${type} is True`,
    );
  const resources = await ok('api-resources', '--api-group=example.com');
  assert.match(resources, /^widgets\s+wg\s+example\.com\/v1\s+true\s+Widget$/m);
  const none = await k('get', 'widgets');
  assert.equal(none.code, 0, none.stderr);
  assert.match(none.stderr, /No resources found in default namespace/);
  const explain = await ok('explain', 'widget.spec');
  assert.match(explain, /^ {2}size\t<integer> -required-$/m);
  assert.match(explain, /^ {2}color\t<string>$/m);
});

test('unknown fields are refused by kubectl (strict) and pruned when not validated; defaults are filled', async () => {
  const body = widget('pruned', '{size: 3, bogus: 1, extra: {kept: word}}');
  const strict = await k('apply', '-f', file('strict.yaml', body));
  assert.notEqual(strict.code, 0);
  assert.match(strict.stderr, /unknown field "spec\.bogus"/);
  await ok('apply', '--validate=false', '-f', file('pruned.yaml', body));
  const obj = await json('get', 'widget', 'pruned');
  assert.deepEqual(at(obj, 'spec'), { size: 3, color: 'red', replicas: 1, extra: { kept: 'word' } });
  assert.equal(at(obj, 'metadata', 'generation'), 1);
});

test('invalid objects are 422 with the field paths of every problem', async () => {
  const res = await k(
    'create',
    '-f',
    file('bad.yaml', widget('bad', '{size: 0, color: pink, label: ABC, tags: [a, b, c], replicas: "x"}')),
  );
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /The Widget "bad" is invalid/);
  assert.match(res.stderr, /spec\.size: Invalid value: 0: spec\.size in body should be greater than or equal to 1/);
  assert.match(res.stderr, /spec\.color: Unsupported value: "pink": supported values: "red", "blue"/);
  assert.match(res.stderr, /spec\.label: Invalid value: "ABC": spec\.label in body should match '\^\[a-z\]\+\$'/);
  assert.match(res.stderr, /spec\.tags: Too many: 3: must have at most 2 items/);
  assert.match(res.stderr, /spec\.replicas: Invalid value: "string": spec\.replicas in body must be of type integer/);
  const missing = await k('create', '-f', file('missing.yaml', widget('missing', '{color: blue}')));
  assert.match(missing.stderr, /spec\.size: Required value/);
  assert.equal((await k('get', 'widget', 'bad')).code, 1, 'nothing was stored');
});

test('kubectl get shows the printer columns; custom-columns and jsonpath read custom objects', async () => {
  await ok('apply', '-f', file('shown.yaml', widget('shown', '{size: 7, color: blue}')));
  const table = await ok('get', 'widgets');
  assert.match(table, /^NAME\s+SIZE\s+COLOR\s+PHASE$/m);
  // An absent field is an empty cell, as kubectl prints Kubernetes' null cells.
  assert.match(table, /^shown\s+7\s+blue\s*$/m);
  // Applied again with a change: kubectl's client-side apply sends a merge patch for custom objects.
  await ok('apply', '-f', file('shown2.yaml', widget('shown', '{size: 8, color: blue}')));
  assert.match(await ok('get', 'widgets'), /^shown\s+8\s+blue\s*$/m);
  assert.match(await ok('get', 'wg', 'shown', '-o', 'custom-columns=N:.metadata.name,S:.spec.size'), /^shown\s+8$/m);
  assert.equal(await ok('get', 'widget.example.com', 'shown', '-o', 'jsonpath={.spec.color}'), 'blue');
});

test('the status subresource ignores spec changes and the main resource ignores status', async () => {
  await ok('apply', '-f', file('st.yaml', widget('st', '{size: 2}')));
  await ok(
    'patch',
    'widget',
    'st',
    '--subresource=status',
    '--type=merge',
    '-p',
    '{"spec":{"size":9},"status":{"phase":"Ready","replicas":1}}',
  );
  let obj = await json('get', 'widget', 'st');
  assert.equal(at(obj, 'spec', 'size'), 2);
  assert.equal(at(obj, 'status', 'phase'), 'Ready');
  await ok('patch', 'widget', 'st', '--type=merge', '-p', '{"spec":{"size":4},"status":{"phase":"Gone"}}');
  obj = await json('get', 'widget', 'st');
  assert.equal(at(obj, 'spec', 'size'), 4);
  assert.equal(at(obj, 'status', 'phase'), 'Ready');
  assert.equal(at(obj, 'metadata', 'generation'), 2);
  await ok('patch', 'widget', 'st', '--type=json', '-p', '[{"op":"replace","path":"/spec/color","value":"blue"}]');
  assert.equal(await ok('get', 'widget', 'st', '-o', 'jsonpath={.spec.color}'), 'blue');
  const strategic = await k('patch', 'widget', 'st', '--type=strategic', '-p', '{"spec":{"size":5}}');
  assert.notEqual(strategic.code, 0);
  assert.match(strategic.stderr, /UnsupportedMediaType|unknown format|415/);
  await ok('scale', 'widget', 'st', '--replicas=3');
  assert.equal(await ok('get', 'widget', 'st', '-o', 'jsonpath={.spec.replicas}'), '3');
});

test('server-side apply, other versions (None conversion) and a watch see the same objects', async () => {
  await ok('apply', '--server-side', '-f', file('ssa.yaml', widget('ssa', '{size: 5}')));
  await ok('apply', '--server-side', '-f', file('ssa2.yaml', widget('ssa', '{size: 6}')));
  assert.equal(await ok('get', 'widget', 'ssa', '-o', 'jsonpath={.spec.size}'), '6');
  const beta = await json('get', 'widgets.v1beta1.example.com', 'ssa');
  assert.equal(at(beta, 'apiVersion'), 'example.com/v1beta1');
  assert.equal(at(beta, 'spec', 'size'), 6);
});

test('an informer sees the custom objects added, changed and deleted', async () => {
  const client = adminClient(plane);
  const widgets: ResourceInfo = {
    group: 'example.com',
    version: 'v1',
    kind: 'Widget',
    listKind: 'WidgetList',
    plural: 'widgets',
    singular: 'widget',
    shortNames: [],
    namespaced: true,
    categories: [],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [],
  };
  const seen: string[] = [];
  const informer = new Informer<KubeObject>(client, widgets, { namespace: 'default' });
  const note = (type: string) => (o: Readonly<KubeObject>) => {
    if (o.metadata.name === 'informed') seen.push(`${type}:${String(at(o, 'spec', 'size'))}`);
  };
  informer.addHandler({ onAdd: note('add'), onUpdate: (_old, o) => note('update')(o), onDelete: note('delete') });
  const stop = new AbortController();
  informer.start(stop.signal);
  try {
    await informer.waitForSync();
    await client.create(
      widgets,
      { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'informed' }, spec: { size: 1 } },
      { namespace: 'default' },
    );
    await client.patch(widgets, 'informed', { type: 'merge', body: { spec: { size: 2 } }, namespace: 'default' });
    await client.delete(widgets, 'informed', { namespace: 'default' });
    await eventually(() => seen.includes('delete:2'), { what: `informer events: ${seen.join(', ')}` });
    assert.deepEqual(seen, ['add:1', 'update:2', 'delete:2']);
  } finally {
    stop.abort();
  }
});

test('RBAC: a Role on the custom resource grants it, and nothing else', async () => {
  const denied = await k('get', 'widgets', '--as=alice');
  assert.notEqual(denied.code, 0);
  assert.match(
    denied.stderr,
    /widgets(\.example\.com)? is forbidden: User "alice" cannot list resource "widgets" in API group "example\.com"/,
  );
  await ok('create', 'role', 'widget-reader', '--verb=get,list', '--resource=widgets.example.com');
  await ok('create', 'rolebinding', 'alice-widgets', '--role=widget-reader', '--user=alice');
  await eventually(async () => (await k('get', 'widgets', '--as=alice')).code === 0, {
    what: 'alice may list widgets',
  });
  const other = await k('get', 'configmaps', '--as=alice');
  assert.notEqual(other.code, 0);
  assert.equal((await k('delete', 'widget', 'shown', '--as=alice')).code, 1);
});

test('bad CRDs are refused: not structural, a name that is not <plural>.<group>, $ref, a bad pattern', async () => {
  const nonStructural = CRD.replace('openAPIV3Schema: &schema\n        type: object\n', 'openAPIV3Schema: &schema\n')
    .replace('widgets.example.com', 'gadgets.example.com')
    .replace('plural: widgets, singular: widget, kind: Widget, shortNames: [wg]', 'plural: gadgets, kind: Gadget');
  const res = await k('apply', '-f', file('ns.yaml', nonStructural));
  assert.notEqual(res.code, 0);
  assert.match(
    res.stderr,
    /spec\.versions\[0\]\.schema\.openAPIV3Schema\.type: Required value: must not be empty at the root/,
  );
  const badName = CRD.replace('name: widgets.example.com', 'name: widgets.example.org');
  const named = await k('apply', '-f', file('name.yaml', badName));
  assert.match(
    named.stderr,
    /metadata\.name: Invalid value: "widgets\.example\.org": must be spec\.names\.plural\+"\."\+spec\.group/,
  );
  const ref = CRD.replace('widgets.example.com', 'things.example.com')
    .replace('plural: widgets, singular: widget, kind: Widget, shortNames: [wg]', 'plural: things, kind: Thing')
    .replace("label: {type: string, pattern: '^[a-z]+$', maxLength: 8}", "label: {$ref: '#/definitions/x'}");
  const refused = await k('apply', '-f', file('ref.yaml', ref));
  assert.match(refused.stderr, /properties\[label\]\.\$ref: Forbidden: \$ref is not supported/);
  const pattern = ref.replace("label: {$ref: '#/definitions/x'}", "label: {type: string, pattern: '(a)\\1'}");
  const badPattern = await k('apply', '-f', file('pattern.yaml', pattern));
  assert.match(badPattern.stderr, /pattern: Invalid value: .*must be a valid regular expression/);
  assert.equal((await k('get', 'crd', 'gadgets.example.com')).code, 1);
});

test('the garbage collector follows ownerReferences to and from custom objects', async () => {
  await ok('apply', '-f', file('owner.yaml', widget('owner', '{size: 1}')));
  const owner = await json('get', 'widget', 'owner');
  const ownerRef = `{apiVersion: example.com/v1, kind: Widget, name: owner, uid: ${String(at(owner, 'metadata', 'uid'))}}`;
  await ok(
    'apply',
    '-f',
    file(
      'owned.yaml',
      `apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: owned, namespace: default, ownerReferences: [${ownerRef}]}\n` +
        'spec: {replicas: 0, selector: {matchLabels: {app: owned}}, template: {metadata: {labels: {app: owned}}, ' +
        'spec: {containers: [{name: c, image: busybox}]}}}\n',
    ),
  );
  await ok(
    'apply',
    '-f',
    file(
      'owned-widget.yaml',
      `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: owned, namespace: default, ownerReferences: [${ownerRef}]}\nspec: {size: 1}\n`,
    ),
  );
  await ok('create', 'configmap', 'cm-owner');
  const cm = await json('get', 'configmap', 'cm-owner');
  const cmRef = `{apiVersion: v1, kind: ConfigMap, name: cm-owner, uid: ${String(at(cm, 'metadata', 'uid'))}}`;
  await ok(
    'apply',
    '-f',
    file(
      'dependent.yaml',
      `apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: dependent, namespace: default, ownerReferences: [${cmRef}]}\nspec: {size: 1}\n`,
    ),
  );
  await ok('delete', 'widget', 'owner');
  await ok('delete', 'configmap', 'cm-owner');
  await eventually(async () => (await k('get', 'replicaset', 'owned')).code !== 0, {
    timeoutMs: 60_000,
    what: 'the ReplicaSet owned by a deleted Widget is collected',
  });
  await eventually(async () => (await k('get', 'widget', 'owned')).code !== 0, {
    timeoutMs: 60_000,
    what: 'the Widget owned by a deleted Widget is collected',
  });
  await eventually(async () => (await k('get', 'widget', 'dependent')).code !== 0, {
    timeoutMs: 60_000,
    what: 'the Widget owned by a deleted ConfigMap is collected',
  });
});

test('deleting a namespace deletes the custom objects in it', async () => {
  await ok('create', 'namespace', 'crd-ns');
  await ok(
    'apply',
    '-f',
    file('in-ns.yaml', widget('in-ns', '{size: 1}').replace('namespace: default', 'namespace: crd-ns')),
  );
  await ok('delete', 'namespace', 'crd-ns', '--wait=false');
  await eventually(async () => (await k('get', 'namespace', 'crd-ns')).code !== 0, {
    timeoutMs: 60_000,
    what: 'the namespace is emptied and goes',
  });
});

test('deleting the CRD deletes its objects and stops serving it', async () => {
  assert.match(await ok('get', 'widgets', '-o', 'name'), /widget\.example\.com\/shown/);
  assert.match(await ok('get', 'crd'), /^NAME\s+CREATED AT\nwidgets\.example\.com\s+\d{4}-\d\d-\d\dT/m);
  // An object with a finalizer holds the CRD's deletion; meanwhile no object may be created.
  await ok(
    'apply',
    '-f',
    file(
      'held.yaml',
      widget('held', '{size: 1}').replace('namespace: default', 'namespace: default, finalizers: [example.com/hold]'),
    ),
  );
  await ok('delete', 'crd', 'widgets.example.com', '--wait=false');
  await eventually(async () => (await k('get', 'widget', 'shown')).code !== 0, { what: 'the objects are deleted' });
  const refused = await k('create', '-f', file('late.yaml', widget('late', '{size: 1}')));
  assert.match(refused.stderr, /create not allowed while custom resource definition is terminating/);
  const crd = await json('get', 'crd', 'widgets.example.com');
  assert.deepEqual(at(crd, 'metadata', 'finalizers'), ['customresourcecleanup.apiextensions.k8s.io']);
  await ok('patch', 'widget', 'held', '--type=merge', '-p', '{"metadata":{"finalizers":null}}');
  await eventually(async () => (await k('get', 'crd', 'widgets.example.com')).code !== 0, { what: 'the CRD is gone' });
  const gone = await k('get', 'widgets');
  assert.notEqual(gone.code, 0);
  // kubectl's cached discovery may still name the resource: then the list itself is a 404.
  assert.match(
    gone.stderr,
    /the server doesn't have a resource type "widgets"|the server could not find the requested resource/,
  );
  // Created again, it starts empty: the old objects went with the old CRD.
  await ok('apply', '-f', file('crd-again.yaml', CRD));
  await eventually(async () => (await k('get', 'widgets')).code === 0, { what: 'served again' });
  const again = await k('get', 'widgets');
  assert.match(again.stderr, /No resources found/);
});
