// coxctl describe: kubectl's layout for each kind (pkg/printers/describe), objects separated
// by two blank lines as kubectl prints them.

import { describeObjects } from '../../printers/describe/index.js';
import type { CliContext } from '../context.js';
import { parseTargets } from './targets.js';

export async function runDescribe(ctx: CliContext, args: string[], flags: { selector?: string }): Promise<void> {
  const targets = parseTargets(args);
  const client = ctx.client();
  const blocks: string[] = [];
  for (const t of targets) {
    const described = await describeObjects(client, {
      resource: t.resource,
      namespace: t.resource.namespaced ? ctx.namespace() : undefined,
      names: t.names,
      selector: flags.selector,
      now: new Date(),
    });
    blocks.push(...described);
  }
  if (blocks.length === 0) ctx.err(`No resources found in ${ctx.namespace()} namespace.`);
  else ctx.io.stdout(blocks.join('\n\n'));
}
