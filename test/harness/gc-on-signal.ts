// Preloaded into a process under test (node --expose-gc --import <this file>), never part
// of a component: on SIGUSR2 it runs full, synchronous garbage collections and prints
// `gc-on-signal: done <n>` on stdout, so a test can measure the memory the process retains
// rather than how much garbage V8 has not collected yet (see apiserver-fuzz.test.ts).

let count = 0;
process.on('SIGUSR2', () => {
  const gc = (globalThis as { gc?: (opts?: { type: 'major'; execution: 'sync' }) => void }).gc;
  if (gc === undefined) {
    process.stdout.write('gc-on-signal: gc is not exposed (run node with --expose-gc)\n');
    return;
  }
  // Twice: the first collection's finalizers and weak callbacks can free more.
  gc({ type: 'major', execution: 'sync' });
  gc({ type: 'major', execution: 'sync' });
  count += 1;
  process.stdout.write(`gc-on-signal: done ${count}\n`);
});
