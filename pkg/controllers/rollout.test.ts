import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizedTemplate, templateHash } from './rollout.js';

test('a template with creationTimestamp: null (kubectl rollout undo) hashes as the same template without it', () => {
  const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
  const fromGo = { metadata: { creationTimestamp: null, labels: { app: 'web' } }, spec: template.spec };
  assert.equal(templateHash(fromGo), templateHash(template));
  assert.deepEqual(normalizedTemplate(fromGo), template);
  const stamped = { ...template, metadata: { ...template.metadata, creationTimestamp: '2024-01-01T00:00:00Z' } };
  assert.notEqual(templateHash(stamped), templateHash(template));
  assert.equal(normalizedTemplate(undefined), undefined);
});
