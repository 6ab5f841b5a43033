// The pure parts of coxctl's kubectl verbs: label/annotate changes, wait conditions, set
// image patches, port mappings, can-i questions, kubeconfig redaction.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { KubeObject } from '../../api/meta.js';
import { accessQuestion, rulesTable } from './auth.js';
import { minify, redact } from './config.js';
import { applyChanges, isChangeArg, parseChanges } from './label.js';
import { patchBody, withoutComments } from './patch-edit.js';
import { parsePortMapping } from './port-forward.js';
import { imagePatch, parseImageArgs } from './set-image.js';
import { conditionMet, parseWaitFor } from './wait.js';

describe('label and annotate arguments', () => {
  test('KEY=VAL sets, KEY- removes; kubectl messages for bad input', () => {
    assert.deepEqual(parseChanges(['a=1', 'b-'], 'labels'), { set: { a: '1' }, remove: ['b'] });
    assert.ok(isChangeArg('app-') && isChangeArg('a=b') && !isChangeArg('deploy/web-') && !isChangeArg('web'));
    assert.throws(() => parseChanges(['a=b=c'], 'labels'), { message: 'invalid label spec: a=b=c' });
    assert.throws(() => parseChanges(['a=x y'], 'labels'), /invalid label value: "a=x y"/);
    assert.deepEqual(parseChanges(['a=b=c'], 'annotations').set, { a: 'b=c' });
    assert.throws(() => parseChanges(['a=1', 'a-'], 'labels'), /can not both modify and remove a label/);
    assert.throws(() => parseChanges([], 'labels'), /at least one label update is required/);
  });

  test('changing a value needs --overwrite, with kubectl wording', () => {
    const changes = parseChanges(['app=x'], 'labels');
    assert.throws(() => applyChanges({ app: 'web' }, changes, { field: 'labels', overwrite: false }), {
      message: "'app' already has a value (web), and --overwrite is false",
    });
    assert.deepEqual(applyChanges({ app: 'web' }, changes, { field: 'labels', overwrite: true }).result, { app: 'x' });
    // The same value again is not a change and needs no --overwrite.
    assert.deepEqual(applyChanges({ app: 'x' }, changes, { field: 'labels', overwrite: false }).result, { app: 'x' });
    assert.throws(
      () => applyChanges({ a: '1' }, parseChanges(['a=2'], 'annotations'), { field: 'annotations', overwrite: false }),
      /--overwrite is false but found the following declared annotation\(s\): 'a' already has a value \(1\)/,
    );
    assert.deepEqual(
      applyChanges({}, parseChanges(['gone-'], 'labels'), { field: 'labels', overwrite: false }).missing,
      ['gone'],
    );
  });
});

describe('wait --for', () => {
  const deploy: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: { replicas: 3 },
    status: { conditions: [{ type: 'Available', status: 'True' }] },
  };
  test('parses delete, condition and jsonpath forms', () => {
    assert.deepEqual(parseWaitFor('delete'), { kind: 'delete' });
    assert.deepEqual(parseWaitFor('condition=Ready'), { kind: 'condition', type: 'Ready', status: 'true' });
    assert.deepEqual(parseWaitFor('condition=Ready=false'), { kind: 'condition', type: 'Ready', status: 'false' });
    assert.deepEqual(parseWaitFor('jsonpath={.status.phase}=Running'), {
      kind: 'jsonpath',
      path: '{.status.phase}',
      value: 'Running',
    });
    assert.throws(() => parseWaitFor('bogus'), /unrecognized condition: "bogus"/);
    assert.throws(() => parseWaitFor('jsonpath={.a}x'), /jsonpath wait format/);
  });
  test('conditions match case-insensitively; jsonpath compares the value', () => {
    assert.ok(conditionMet(deploy, parseWaitFor('condition=available')));
    assert.ok(!conditionMet(deploy, parseWaitFor('condition=Progressing')));
    assert.ok(conditionMet(deploy, parseWaitFor('jsonpath={.spec.replicas}=3')));
    assert.ok(!conditionMet(deploy, parseWaitFor('jsonpath={.spec.replicas}=2')));
    assert.ok(conditionMet(deploy, parseWaitFor('jsonpath={.spec.replicas}')));
  });
});

describe('set image', () => {
  const deploy: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web' },
    spec: {
      template: {
        spec: {
          containers: [
            { name: 'nginx', image: 'nginx:1' },
            { name: 'side', image: 's:1' },
          ],
        },
      },
    },
  };
  test('a strategic patch of the named containers; nothing when unchanged; unknown container refused', () => {
    assert.deepEqual(imagePatch(deploy, parseImageArgs(['nginx=nginx:2'])), {
      spec: { template: { spec: { containers: [{ name: 'nginx', image: 'nginx:2' }] } } },
    });
    assert.equal(imagePatch(deploy, parseImageArgs(['nginx=nginx:1'])), undefined);
    assert.deepEqual(imagePatch(deploy, parseImageArgs(['*=x'])), {
      spec: {
        template: {
          spec: {
            containers: [
              { name: 'nginx', image: 'x' },
              { name: 'side', image: 'x' },
            ],
          },
        },
      },
    });
    assert.throws(() => imagePatch(deploy, parseImageArgs(['nope=x'])), /unable to find container named "nope"/);
    assert.throws(() => parseImageArgs(['nginx=']), /expected CONTAINER=IMAGE/);
  });
});

describe('port-forward, patch, edit, can-i, config', () => {
  test('port mappings', () => {
    assert.deepEqual(parsePortMapping('8080:80'), { local: 8080, remote: 80 });
    assert.deepEqual(parsePortMapping('80'), { local: 80, remote: 80 });
    assert.deepEqual(parsePortMapping(':80'), { local: 0, remote: 80 });
    assert.throws(() => parsePortMapping('80:'), /invalid port format/);
    assert.throws(() => parsePortMapping('x:80'), /Error parsing local port/);
    assert.throws(() => parsePortMapping('1:70000'), /must be a number/);
  });

  test('patch bodies: JSON or YAML become JSON; text that does not parse goes as is', () => {
    assert.equal(patchBody('spec: {replicas: 2}'), '{"spec":{"replicas":2}}');
    assert.equal(patchBody('{bad'), '{bad');
  });

  test("edit ignores kubectl's comment lines", () => {
    assert.equal(withoutComments('# note\na: 1\n  # indented\nb: 2\n'), 'a: 1\nb: 2');
  });

  test('can-i: resources, subresources, names, non-resource URLs, warnings', () => {
    const warnings: string[] = [];
    const warn = (l: string): number => warnings.push(l);
    assert.deepEqual(accessQuestion(['get', 'pods/log'], warn), {
      verb: 'get',
      group: '',
      resource: 'pods',
      subresource: 'log',
      name: '',
    });
    assert.deepEqual(accessQuestion(['delete', 'deploy/web'], warn), {
      verb: 'delete',
      group: 'apps',
      resource: 'deployments',
      subresource: '',
      name: 'web',
    });
    assert.deepEqual(accessQuestion(['get', '/healthz'], warn), { verb: 'get', path: '/healthz' });
    assert.deepEqual(warnings, []);
    accessQuestion(['frob', 'foos.example.com'], warn);
    assert.deepEqual(warnings, [
      "Warning: verb 'frob' is not a known verb\n",
      "Warning: the server doesn't have a resource type 'foos.example.com'\n\n",
    ]);
    assert.throws(() => accessQuestion(['get'], warn), /you must specify two or three arguments/);
  });

  test('can-i --list: a row per resource and group, and per non-resource URL', () => {
    assert.deepEqual(
      rulesTable({
        resourceRules: [{ verbs: ['get', 'list'], apiGroups: ['', 'apps'], resources: ['pods'], resourceNames: ['a'] }],
        nonResourceRules: [{ verbs: ['get'], nonResourceURLs: ['/healthz'] }],
      }),
      [
        ['pods', '[]', '[a]', '[get list]'],
        ['pods.apps', '[]', '[a]', '[get list]'],
        ['', '[/healthz]', '[]', '[get]'],
      ],
    );
  });

  test('config view hides credentials; --minify keeps the current context only', () => {
    const doc = {
      clusters: [
        { name: 'a', cluster: { server: 'https://a', 'certificate-authority-data': 'Q0E=' } },
        { name: 'b', cluster: { server: 'https://b' } },
      ],
      contexts: [
        { name: 'ca', context: { cluster: 'a', user: 'ua' } },
        { name: 'cb', context: { cluster: 'b', user: 'ub' } },
      ],
      users: [
        { name: 'ua', user: { token: 'secret', 'client-key-data': 'S0VZ' } },
        { name: 'ub', user: { password: 'pw' } },
      ],
      'current-context': 'ca',
    };
    const shown = JSON.stringify(redact(doc));
    assert.ok(!shown.includes('secret') && !shown.includes('S0VZ') && !shown.includes('Q0E=') && !shown.includes('pw'));
    assert.match(shown, /DATA\+OMITTED/);
    assert.match(shown, /REDACTED/);
    const small = minify(doc, 'ca');
    assert.deepEqual(
      [small['clusters'], small['users']].map((l) => (Array.isArray(l) ? l.length : -1)),
      [1, 1],
    );
    assert.throws(() => minify(doc, 'nope'), /cannot locate context nope/);
  });
});
