import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const INDEX = fileURLToPath(new URL('./index.js', import.meta.url));

/** A child that installs processSignal, says "ready", says "draining" on abort and then either stays (keep) or exits 0. */
function child(onAbort: 'keep' | 'exit'): ReturnType<typeof spawn> {
  const script = `
    const { processSignal } = await import(${JSON.stringify(INDEX)});
    const signal = processSignal();
    const keep = setInterval(() => undefined, 1000);
    signal.addEventListener('abort', () => {
      process.stdout.write('draining\\n');
      if (${JSON.stringify(onAbort)} === 'exit') clearInterval(keep);
    });
    process.stdout.write('ready\\n');`;
  return spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
}

function line(c: ReturnType<typeof spawn>, want: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (out.split('\n').includes(want)) {
        c.stdout?.off('data', onData);
        resolve();
      }
    };
    c.stdout?.on('data', onData);
    c.once('exit', () => reject(new Error(`exited before "${want}"; stdout: ${out}`)));
  });
}

function exitCode(c: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => c.once('exit', (code) => resolve(code)));
}

test('the first SIGTERM aborts the signal and the process drains and exits on its own', async () => {
  const c = child('exit');
  await line(c, 'ready');
  const exited = exitCode(c);
  c.kill('SIGTERM');
  assert.equal(await exited, 0);
});

test('a second signal while draining exits at once with status 1', async () => {
  const c = child('keep');
  await line(c, 'ready');
  const draining = line(c, 'draining');
  c.kill('SIGINT');
  await draining;
  const exited = exitCode(c);
  c.kill('SIGTERM');
  assert.equal(await exited, 1);
});
