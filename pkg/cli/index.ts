// coxctl's command definitions (commander), apart from their actions in ./commands.
// Every failure becomes one line on stderr and a non-zero exit.

import { Command, CommanderError, Option } from 'commander';
import { ApiError, errorMessage } from '../errors/index.js';
import { runApply } from './commands/apply.js';
import { runDelete } from './commands/delete.js';
import { runDescribe } from './commands/describe.js';
import { runExec } from './commands/exec.js';
import { runGet } from './commands/get.js';
import { runLogs } from './commands/logs.js';
import { runCordon, runDrain } from './commands/nodes.js';
import { runRollout } from './commands/rollout.js';
import { runWhy } from './commands/why.js';
import { CLIENT_VERSION, runApiResources, runScale, runVersion } from './commands/misc.js';
import { runEncryptionConfigGenerate, runEncryptionConfigRotate } from './commands/encryption-config.js';
import { runPkiInit, runPkiMember, runPkiNode } from './commands/pki.js';
import { runStoreMigrate } from './commands/store.js';
import { runTokenCreate, runTokenDelete, runTokenList } from './commands/token.js';
import { CliContext, type CliIO, type GlobalFlags } from './context.js';
import { ManifestError } from './manifests.js';
import { registerVerbs } from './verbs.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** A command's own non-zero exit (e.g. exec passing on the remote exit code): no message. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit code ${code}`);
  }
}

/** The one-line message kubectl would print for an error. */
export function errorLine(err: unknown): string {
  // kubectl words a refused object as "The Deployment "web" is invalid: …", without the reason.
  if (err instanceof ApiError && err.reason === 'Invalid')
    return err.details?.kind !== undefined && err.message.startsWith(`${err.details.kind} "`)
      ? `The ${err.message}`
      : `The request is invalid: ${err.message}`;
  if (err instanceof ApiError) return `Error from server (${err.reason}): ${err.message}`;
  if (err instanceof ManifestError) return err.message;
  const message = errorMessage(err);
  return message.startsWith('error: ') ? message : `error: ${message}`;
}

export function buildProgram(io: CliIO, onContext: (ctx: CliContext) => void): Command {
  const program = new Command('coxctl')
    .description('Coxswain command-line client (kubectl-compatible verbs)')
    .version(CLIENT_VERSION, '--client-version')
    .option('--kubeconfig <file>', 'path to the kubeconfig file')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <ns>', 'namespace scope for this request')
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .exitOverride();

  const ctxOf = (): CliContext => {
    const ctx = new CliContext(program.opts<GlobalFlags>(), io);
    onContext(ctx);
    return ctx;
  };

  program
    .command('apply')
    .description('apply a configuration to resources from files, folders or stdin')
    .requiredOption('-f, --filename <path>', 'file, folder or - (repeatable)', collect)
    .option('--server-side', 'use server-side apply')
    .option('--force-conflicts', 'with --server-side, take ownership of conflicting fields')
    .option('--field-manager <name>', 'field manager name for server-side apply')
    .action((flags) => runApply(ctxOf(), flags));

  // create (files and generators), run, expose, label, annotate, patch, edit, set, port-forward,
  // top, wait, events, auth, config, completion.
  registerVerbs(program, { ctxOf, exitWith: (code) => new ExitCode(code) });

  program
    .command('get')
    .description('display one or many resources')
    .argument('[args...]', 'TYPE[.GROUP] [NAME...] | TYPE/NAME ...')
    .option('-o, --output <format>', 'wide|yaml|json|name')
    .option('-l, --selector <selector>', 'label selector')
    .option('--field-selector <selector>', 'field selector')
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('-w, --watch', 'after listing, watch for changes')
    .option('--show-labels', 'show labels as the last column')
    .action((args: string[], flags) => runGet(ctxOf(), args, flags));

  program
    .command('describe')
    .description('show details of a resource or group of resources')
    .argument('<args...>', 'TYPE [NAME...] | TYPE/NAME')
    .option('-l, --selector <selector>', 'label selector')
    .action((args: string[], flags) => runDescribe(ctxOf(), args, flags));

  program
    .command('delete')
    .description('delete resources by names, files or label selector')
    .argument('[args...]', 'TYPE NAME... | TYPE/NAME ...')
    .option('-f, --filename <path>', 'file, folder or - (repeatable)', collect)
    .option('-l, --selector <selector>', 'label selector')
    .option('--all', 'delete every object of the given types in the namespace')
    .option('-A, --all-namespaces', 'with -l or --all, across all namespaces')
    .option('--ignore-not-found', 'treat "not found" as success')
    .option('--cascade <mode>', 'background|foreground|orphan', 'background')
    .option('--grace-period <seconds>', 'seconds given to the resource to terminate', (v) => Number(v))
    .option('--force', 'delete immediately (grace period 0)')
    .addOption(new Option('--wait <bool>', 'wait for the objects to be gone').default('true'))
    .option('--timeout <seconds>', 'how long to wait (0: forever)', (v) => Number(v), 0)
    .action((args: string[], flags) =>
      runDelete(ctxOf(), args, { ...flags, wait: flags.wait !== 'false', timeoutSeconds: flags.timeout }),
    );

  program
    .command('scale')
    .description('set a new size for a deployment, replica set or stateful set')
    .argument('<args...>', 'TYPE NAME | TYPE/NAME')
    .requiredOption('--replicas <count>', 'the new desired number of replicas')
    .action((args: string[], flags) => runScale(ctxOf(), args, flags));

  program
    .command('logs')
    .description('print the logs of a container in a pod')
    .argument('<pod>', 'POD or pod/POD')
    .option('-c, --container <name>', 'container name')
    .option('-f, --follow', 'stream the logs')
    .option('-p, --previous', 'logs of the previous instance of the container')
    .option('--tail <lines>', 'lines from the end to show')
    .option('--timestamps', 'prefix each line with its timestamp')
    .option('--since <duration>', 'only logs newer than this (e.g. 5m)')
    .action((pod: string, flags) => runLogs(ctxOf(), pod, flags));

  program
    .command('exec')
    .description('run a command in a container')
    .argument('<pod>', 'POD or pod/POD')
    .argument('<command...>', 'command and arguments (after --)')
    .option('-c, --container <name>', 'container name')
    .option('-i, --stdin', 'pass stdin to the container')
    .option('-t, --tty', 'stdin is a TTY')
    .action(async (pod: string, command: string[], flags) => {
      const code = await runExec(ctxOf(), { pod, command }, flags);
      if (code !== 0) throw new ExitCode(code);
    });

  program
    .command('cordon')
    .description('mark a node unschedulable')
    .argument('<node>')
    .action((node: string) => runCordon(ctxOf(), node, true));
  program
    .command('uncordon')
    .description('mark a node schedulable')
    .argument('<node>')
    .action((node: string) => runCordon(ctxOf(), node, false));
  program
    .command('drain')
    .description('cordon a node and evict its pods')
    .argument('<node>')
    .option('--ignore-daemonsets', 'leave DaemonSet-managed pods')
    .option('--force', 'also evict pods no controller manages')
    .option('--timeout <seconds>', 'give up after this long (0: never)', (v) => Number(v), 0)
    .action((node: string, flags) => runDrain(ctxOf(), node, flags));
  program
    .command('rollout')
    .description('manage the rollout of a deployment: status, history, undo, pause, resume, restart')
    .argument('<action>')
    .argument('<deployment>', 'deployment/NAME')
    .option('--to-revision <n>', 'with undo: the revision to roll back to')
    .option('--timeout <duration>', 'with status: give up after this long (e.g. 120s)')
    .action((action: string, d: string, flags) => runRollout(ctxOf(), { action, deployment: d }, flags));

  program
    .command('why')
    .description('explain why a pod or a deployment is not running or ready, with the next command to run')
    .argument('<target...>', 'POD | pod/POD | deployment/NAME')
    .option('-o, --output <format>', 'json')
    .action((args: string[], flags) => runWhy(ctxOf(), args, flags));

  program
    .command('api-resources')
    .description('print the supported API resources')
    .option('-o, --output <format>', 'wide|name')
    .action((flags) => runApiResources(ctxOf(), flags));

  program
    .command('version')
    .description('print the client and server versions')
    .option('--client', 'client version only')
    .action((flags) => runVersion(ctxOf(), flags));

  const pki = program.command('pki').description('cluster certificates');
  pki
    .command('init')
    .description('create the cluster CA, certificates and kubeconfigs (idempotent)')
    .option('--dir <dir>', 'where to write them', 'certs')
    .option('--server <url>', 'API server URL written into kubeconfigs', 'https://127.0.0.1:6443')
    .option('--san <name>', 'extra name or IP for the API server certificate (repeatable)', collect)
    .option('--etcd-san <name>', "extra name or IP for etcd's certificates (repeatable)", collect)
    .action((flags) => runPkiInit(ctxOf(), flags));
  pki
    .command('node')
    .description('credentials for a node agent, made from the CA (kubeconfig and serving certificate)')
    .requiredOption('--name <node>', 'node name')
    .option('--dir <dir>', 'the cluster PKI folder', 'certs')
    .option('--server <url>', 'API server URL written into the kubeconfig', 'https://127.0.0.1:6443')
    .option('--ip <address>', 'an address of the node (repeatable)', collect)
    .action((flags) => runPkiNode(ctxOf(), flags));
  pki
    .command('member')
    .description("an HA control-plane member's etcd server/peer and apiserver certificates (members/NAME/)")
    .requiredOption('--name <name>', "member name (etcd's --name)")
    .option('--dir <dir>', 'the cluster PKI folder', 'certs')
    .requiredOption('--address <address>', 'an address the member is reached at (repeatable)', collect)
    .option('--san <name>', "extra name or IP for the member's apiserver certificate (repeatable)", collect)
    .action((flags) => runPkiMember(ctxOf(), flags));

  const enc = program.command('encryption-config').description('the apiserver --encryption-provider-config file');
  enc
    .command('generate')
    .description('a new config: one fresh key encrypting Secrets, identity after it')
    .option('--provider <type>', 'secretbox, aescbc or aesgcm', 'secretbox')
    .option('--resource <name>', 'resource to encrypt (repeatable; default secrets)', collect)
    .option('--key-name <name>', 'name of the key (default key1)')
    .option('-o, --output <file>', 'write to this file (mode 0600) instead of stdout')
    .action((flags) => runEncryptionConfigGenerate(ctxOf(), flags));
  enc
    .command('rotate')
    .description('put a new key first (it encrypts); the old keys stay for reading')
    .requiredOption('-f, --filename <file>', 'the config to rotate (rewritten in place, 0600)')
    .option('--provider <type>', 'secretbox, aescbc or aesgcm', 'secretbox')
    .option('--key-name <name>', 'name of the new key (default: the next keyN)')
    .option('-o, --output <file>', 'write the rotated config here instead')
    .action((flags) => runEncryptionConfigRotate(ctxOf(), flags));

  const store = program.command('store').description("the apiserver's store, offline");
  store
    .command('migrate')
    .description("copy a stopped cluster's state from SQLite to etcd, then verify it")
    .requiredOption('--from <store>', "sqlite:DIR (the apiserver's --data-dir)")
    .requiredOption('--to <store>', 'etcd:URL[,URL...] (as --etcd-servers)')
    .option('--etcd-cafile <file>', "CA of etcd's serving certificate")
    .option('--etcd-certfile <file>', 'client certificate for etcd')
    .option('--etcd-keyfile <file>', 'client key for etcd')
    .option('--etcd-prefix <prefix>', 'key prefix in etcd (default /registry)')
    .option('--encryption-provider-config <file>', "the source apiserver's encryption config: every value must read")
    .action((flags) => runStoreMigrate(ctxOf(), flags));

  const token = program.command('token').description('bootstrap tokens for joining nodes');
  token
    .command('create')
    .description('create a bootstrap token and print the command that joins a host with it')
    .option('--ttl <duration>', 'how long the token is valid (0 = forever)', '24h')
    .option('--description <text>', 'what the token is for')
    .option('--no-print-join-command', 'print only the token')
    .action((flags) => runTokenCreate(ctxOf(), flags));
  token
    .command('list')
    .description('list bootstrap tokens')
    .action(() => runTokenList(ctxOf()));
  token
    .command('delete')
    .description('delete bootstrap tokens (by ID or whole token)')
    .argument('<token...>', 'token IDs or tokens')
    .action((tokens: string[]) => runTokenDelete(ctxOf(), tokens));

  return program;
}

/** Runs coxctl with argv; resolves to the exit code. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const contexts: CliContext[] = [];
  const program = buildProgram(io, (c) => contexts.push(c));
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError && err.code.startsWith('commander.')) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : err.exitCode;
    }
    if (err instanceof ExitCode) return err.code;
    io.stderr(errorLine(err) + '\n');
    return 1;
  } finally {
    for (const c of contexts) c.close();
  }
}
