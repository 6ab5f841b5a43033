// The usual cluster of the single-machine end-to-end tests: a control plane, node agents on
// the local dockerd, and an admin client; stop() leaves no process or container behind.

import type { RestClient } from '../../pkg/client/index.js';
import { adminClient } from './clients.js';
import {
  removeNodeContainers,
  startControlPlane,
  startNodeAgent,
  type ControlPlane,
  type ControlPlaneOptions,
  type NodeAgent,
  type NodeAgentOptions,
} from './control-plane.js';

export interface AgentCluster {
  plane: ControlPlane;
  client: RestClient;
  /** The first agent (there is always one). */
  agent: NodeAgent;
  /** Every agent, in the order asked for. */
  agents: NodeAgent[];
  /** Stops the agents and removes their containers, then the client and the control plane. */
  stop(): Promise<void>;
}

export async function startAgentCluster(
  opts: { plane?: ControlPlaneOptions; agents?: [NodeAgentOptions, ...NodeAgentOptions[]] } = {},
): Promise<AgentCluster> {
  const plane = await startControlPlane(opts.plane);
  const client = adminClient(plane);
  const agents: NodeAgent[] = [];
  const stop = async (): Promise<void> => {
    for (const a of agents) await a.stop();
    for (const a of agents) await removeNodeContainers(a.name);
    client.close();
    await plane.stop();
  };
  try {
    const [first, ...more] = opts.agents ?? [{}];
    const agent = await startNodeAgent(plane, first);
    agents.push(agent);
    for (const o of more) agents.push(await startNodeAgent(plane, o));
    return { plane, client, agent, agents, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
