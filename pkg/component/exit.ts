// Turning a process's flags into its config: a wrong flag ends the process with status 2 and
// one line saying which flag and why (the config modules throw; only here does anyone exit).

/** What a config module throws for a flag it cannot accept. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** The config `build` returns; on a ConfigError, "<component>: <message>" on stderr and exit 2. */
export function configOrExit<T>(component: string, build: () => T): T {
  try {
    return build();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`${component}: ${err.message}\n`);
    return process.exit(2);
  }
}
