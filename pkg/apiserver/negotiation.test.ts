import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from '../errors/index.js';
import { answerFormat, negotiate } from './negotiation.js';

test('JSON whenever accepted, protobuf only when it alone is, nothing otherwise', () => {
  assert.equal(answerFormat(undefined), 'json');
  assert.equal(answerFormat(''), 'json');
  assert.equal(answerFormat('application/vnd.kubernetes.protobuf,application/json'), 'json');
  assert.equal(answerFormat('application/json;as=Table;v=v1;g=meta.k8s.io,application/json'), 'json');
  assert.equal(answerFormat('text/html,*/*;q=0.8'), 'json');
  assert.equal(answerFormat('application/vnd.kubernetes.protobuf'), 'protobuf');
  assert.equal(answerFormat('application/vnd.kubernetes.protobuf;stream=watch'), 'protobuf');
  assert.equal(answerFormat('application/json;q=0, application/vnd.kubernetes.protobuf'), 'protobuf');
  assert.equal(answerFormat('application/xml'), undefined);
  assert.equal(answerFormat(',;,;;'), undefined);
  assert.throws(
    () => negotiate('text/csv'),
    (err: unknown) => err instanceof ApiError && err.code === 406 && err.reason === 'NotAcceptable',
  );
});
