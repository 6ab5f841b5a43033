// What every coxctl command needs: the global flags, a lazily built API client, and the
// output streams (injectable so the CLI can be driven in tests).

import { readFileSync } from 'node:fs';
import { loadKubeconfig, RestClient, type ClientConfig } from '../client/index.js';

export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  readStdin: () => string;
}

export const processIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  readStdin: () => readFileSync(0, 'utf8'),
};

export interface GlobalFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  /** --as: impersonate this user. */
  as?: string;
}

/** A one-line, non-zero-exit failure of a command (printed as `error: <message>`). */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export class CliContext {
  readonly io: CliIO;
  private readonly flags: GlobalFlags;
  private config: ClientConfig | undefined;
  private restClient: RestClient | undefined;

  constructor(flags: GlobalFlags, io: CliIO) {
    this.flags = flags;
    this.io = io;
  }

  clientConfig(): ClientConfig {
    if (this.config === undefined) {
      const opts: { path?: string; context?: string } = {};
      if (this.flags.kubeconfig !== undefined) opts.path = this.flags.kubeconfig;
      if (this.flags.context !== undefined) opts.context = this.flags.context;
      this.config = loadKubeconfig(opts);
      if (this.flags.as !== undefined && this.flags.as !== '') this.config.impersonateUser = this.flags.as;
    }
    return this.config;
  }

  client(): RestClient {
    this.restClient ??= new RestClient(this.clientConfig());
    return this.restClient;
  }

  /** -n, else the kubeconfig context's namespace, else `default`. */
  namespace(): string {
    if (this.flags.namespace !== undefined && this.flags.namespace !== '') return this.flags.namespace;
    try {
      return this.clientConfig().namespace;
    } catch {
      return 'default';
    }
  }

  /** --kubeconfig as given (config subcommands edit that file). */
  kubeconfigFlag(): string | undefined {
    return this.flags.kubeconfig;
  }

  contextFlag(): string | undefined {
    return this.flags.context;
  }

  explicitNamespace(): string | undefined {
    return this.flags.namespace;
  }

  out(text: string): void {
    this.io.stdout(text.endsWith('\n') ? text : text + '\n');
  }

  err(text: string): void {
    this.io.stderr(text.endsWith('\n') ? text : text + '\n');
  }

  close(): void {
    this.restClient?.close();
  }
}
