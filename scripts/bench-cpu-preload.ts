// Loaded into the apiserver with `node --import` by the API benchmark only: on SIGUSR2 it
// writes the process's CPU time so far (process.cpuUsage, µs) to stderr as one line. The
// figure leaves through a signal and stderr, which only the parent holds, so the server grows
// no endpoint and nothing on the wire can ask for it.

export const CPU_LINE_PREFIX = 'bench-cpu-usage';

process.on('SIGUSR2', () => {
  const { user, system } = process.cpuUsage();
  process.stderr.write(`${CPU_LINE_PREFIX} ${user} ${system}\n`);
});
