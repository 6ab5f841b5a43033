// The client of a long-running component (scheduler, controller-manager, node agent): its
// kubeconfig's credentials, the apiservers of --apiservers instead of the kubeconfig's one
// server when given, and the live apiservers learned from the `default/kubernetes` Endpoints.

import { ConfigError } from '../component/index.js';
import { errorMessage } from '../errors/index.js';
import { discoverApiservers } from './apiserver-discovery.js';
import { parseApiserverList } from './apiservers.js';
import { loadKubeconfig, withApiservers, type ClientConfig } from './kubeconfig.js';
import { RestClient } from './rest-client.js';

export const APISERVERS_FLAG_HELP =
  "comma-separated apiserver URLs to use instead of the kubeconfig's server (first preferred; fails over to the others)";

/** The --apiservers flag: undefined when not given; a ConfigError naming it when malformed. */
export function apiserversFlag(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  try {
    return parseApiserverList(value);
  } catch (err) {
    throw new ConfigError(`--apiservers: ${errorMessage(err)}`);
  }
}

/** The kubeconfig's client config, with `apiservers` (when given) instead of its server. */
export function componentClientConfig(kubeconfig: string, apiservers: readonly string[] | undefined): ClientConfig {
  const config = loadKubeconfig({ path: kubeconfig });
  return apiservers === undefined ? config : withApiservers(config, apiservers);
}

/** A client for `config` that learns the live apiservers until `signal` aborts. */
export function componentClient(
  config: ClientConfig,
  signal: AbortSignal,
  log?: (message: string) => void,
): RestClient {
  const client = new RestClient(config);
  discoverApiservers(client, signal, {
    onChange: (servers) => log?.(`apiservers: ${client.apiservers.all().join(', ')} (learned ${servers.join(', ')})`),
  });
  return client;
}
