import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alignTabs, escapeTerminal, LEVEL_0, LEVEL_1, LEVEL_2, PrefixWriter } from './prefix-writer.js';

test('alignTabs: a block of lines is padded to its widest cell plus two', () => {
  assert.equal(alignTabs('Name:\tweb\nNamespace:\tdefault\n'), 'Name:       web\nNamespace:  default\n');
});

test('alignTabs: a line without a tab ends the block; the next block is sized on its own', () => {
  const text =
    'Name:\tp\nIPs:\n  IP:\t10.0.0.1\nControlled By:\tReplicaSet/x\nContainers:\n  c:\n    Image:\tbusybox\n';
  assert.equal(
    alignTabs(text),
    [
      'Name:  p',
      'IPs:',
      '  IP:           10.0.0.1',
      'Controlled By:  ReplicaSet/x',
      'Containers:',
      '  c:',
      '    Image:  busybox',
      '',
    ].join('\n'),
  );
});

test('alignTabs: nested columns form their own blocks (a Port line with three cells among two-cell lines)', () => {
  const text = 'Type:\tClusterIP\nPort:\thttp\t80/TCP\nTargetPort:\t8080/TCP\n';
  assert.equal(alignTabs(text), 'Type:        ClusterIP\nPort:        http  80/TCP\nTargetPort:  8080/TCP\n');
});

test('alignTabs: the text after the last tab is never padded; empty cells still take their width', () => {
  assert.equal(alignTabs('a\t\tb\nccc\tdd\te\n'), 'a        b\nccc  dd  e\n');
  assert.equal(alignTabs('x\ty \n'), 'x  y \n');
});

test('alignTabs: widths count code points, not UTF-16 units', () => {
  assert.equal(alignTabs('é:\t1\nab:\t2\n'), 'é:   1\nab:  2\n');
  assert.equal(alignTabs('🙂:\t1\nab:\t2\n'), '🙂:   1\nab:  2\n');
});

test('PrefixWriter: two spaces per level, continuation lines of a multi-line value stay aligned', () => {
  const w = new PrefixWriter();
  w.write(LEVEL_0, 'Labels:\t');
  w.write(LEVEL_0, 'app=web\n');
  w.write(LEVEL_0, '\tpod-template-hash=x\n');
  w.write(LEVEL_0, 'Annotations:\t');
  w.line('<none>');
  w.write(LEVEL_0, 'Containers:\n');
  w.write(LEVEL_1, 'c:\n');
  w.write(LEVEL_2, 'Restart Count:\t0\n');
  assert.equal(
    w.text(),
    'Labels:       app=web\n              pod-template-hash=x\nAnnotations:  <none>\nContainers:\n  c:\n    Restart Count:  0\n',
  );
});

test('PrefixWriter: flush lays out what came before on its own', () => {
  const w = new PrefixWriter();
  w.write(LEVEL_0, 'A:\t1\n');
  w.flush();
  w.write(LEVEL_0, 'Longer key:\t2\n');
  assert.equal(w.text(), 'A:  1\nLonger key:  2\n');
});

test('hostile: terminal escapes and carriage returns in values cannot drive the terminal', () => {
  assert.equal(escapeTerminal('a\x1b[31mred\rb\x07'), 'a^[[31mred\\rb\\x07');
  const w = new PrefixWriter();
  w.write(LEVEL_0, 'Name:\tx\x1b]0;pwned\x07\n');
  assert.equal(w.text(), 'Name:  x^[]0;pwned\\x07\n');
});
