// The definitions (flags as kubectl names them) of the verbs a kubectl user reaches for:
// create (from files, and the namespace/deployment/configmap/secret generators), run,
// expose, label, annotate, patch, edit, set image, port-forward, top, wait, events,
// auth can-i, config, completion. Their actions live in ./commands.

import type { Command } from 'commander';
import type { CliContext } from './context.js';
import { CliError } from './context.js';
import { runCreate } from './commands/apply.js';
import { runCanI, runCanIList } from './commands/auth.js';
import { runCompletion } from './commands/completion.js';
import { runConfigView, runCurrentContext, runGetContexts, runUseContext } from './commands/config.js';
import {
  runCreateConfigMap,
  runCreateDeployment,
  runCreateNamespace,
  runCreateSecretDockerRegistry,
  runCreateSecretGeneric,
  runCreateSecretTls,
} from './commands/create-generators.js';
import { runEvents } from './commands/events.js';
import { runMetadataChange } from './commands/label.js';
import { runEdit, runPatch } from './commands/patch-edit.js';
import { runPortForward } from './commands/port-forward.js';
import { runExpose, runRun } from './commands/run-expose.js';
import { runSetImage } from './commands/set-image.js';
import { runTopNode, runTopPod } from './commands/top.js';
import { runWait } from './commands/wait.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export interface VerbWiring {
  ctxOf: () => CliContext;
  /** An error that ends coxctl with this exit code and no message (auth can-i's `no`). */
  exitWith: (code: number) => Error;
}

/** --dry-run and -o, as every generator and mutating verb takes them. */
function withOutput(cmd: Command): Command {
  return cmd
    .option('--dry-run [strategy]', 'none, client (print only) or server (checked, not persisted)')
    .option('-o, --output <format>', 'yaml|json|name');
}

function registerCreate(program: Command, { ctxOf }: VerbWiring): void {
  const create = program
    .command('create')
    .description('create resources from files, folders or stdin, or from a generator (create deployment ...)')
    .option('-f, --filename <path>', 'file, folder or - (repeatable)', collect)
    .action((flags: { filename?: string[] }) => {
      if (flags.filename === undefined || flags.filename.length === 0)
        throw new CliError('must specify one of -f and -k');
      return runCreate(ctxOf(), { filename: flags.filename });
    });
  withOutput(create.command('namespace').alias('ns').description('create a namespace').argument('<name>')).action(
    (name: string, flags) => runCreateNamespace(ctxOf(), name, flags),
  );
  withOutput(
    create
      .command('deployment')
      .alias('deploy')
      .description('create a deployment running the given image(s): NAME --image=IMAGE [-- COMMAND...]')
      .argument('<name>')
      .argument('[command...]', "the containers' command, after --")
      .option('--image <image>', 'container image (repeatable: one container each)', collect)
      .option('-r, --replicas <n>', 'number of replicas', '1')
      .option('--port <port>', 'containerPort of the first container'),
  ).action((name: string, command: string[], flags) => runCreateDeployment(ctxOf(), { name, command }, flags));
  const dataOptions = (cmd: Command): Command =>
    withOutput(
      cmd
        .option('--from-literal <key=value>', 'a key and literal value (repeatable)', collect)
        .option('--from-file <[key=]path>', 'a file, or a folder of files (repeatable)', collect)
        .option('--from-env-file <path>', 'a file of KEY=VALUE lines (repeatable)', collect),
    );
  dataOptions(create.command('configmap').alias('cm').description('create a configmap').argument('<name>')).action(
    (name: string, flags) => runCreateConfigMap(ctxOf(), name, flags),
  );
  const secret = create.command('secret').description('create a secret: generic, tls or docker-registry');
  dataOptions(secret.command('generic').description('a secret from files, folders or literals').argument('<name>'))
    .option('--type <type>', 'the secret type')
    .action((name: string, flags) => runCreateSecretGeneric(ctxOf(), name, flags));
  withOutput(
    secret
      .command('tls')
      .description('a TLS secret from a PEM certificate and key')
      .argument('<name>')
      .option('--cert <file>', 'PEM certificate')
      .option('--key <file>', 'PEM private key'),
  ).action((name: string, flags) => runCreateSecretTls(ctxOf(), name, flags));
  withOutput(
    secret
      .command('docker-registry')
      .description('a secret for pulling images from a registry')
      .argument('<name>')
      .option('--docker-server <url>', 'registry address', 'https://index.docker.io/v1/')
      .option('--docker-username <name>', 'user name')
      .option('--docker-password <password>', 'password')
      .option('--docker-email <email>', 'email'),
  ).action((name: string, flags) => runCreateSecretDockerRegistry(ctxOf(), name, flags));
}

function registerWorkloadVerbs(program: Command, { ctxOf }: VerbWiring): void {
  withOutput(
    program
      .command('run')
      .description('run a pod from an image: coxctl run NAME --image=IMAGE [-- ARGS...]')
      .argument('<name>')
      .argument('[args...]', 'container args (or command with --command) after --')
      .option('--image <image>', 'container image')
      .option('--restart <policy>', 'Always, OnFailure or Never', 'Always')
      .option('--env <KEY=VALUE>', 'environment variable (repeatable)', collect)
      .option('-l, --labels <labels>', 'labels, comma-separated (default run=NAME)')
      .option('--port <port>', 'containerPort')
      .option('--command', 'the words after -- are the command, not args'),
  ).action((name: string, args: string[], flags) => runRun(ctxOf(), { name, args }, flags));

  withOutput(
    program
      .command('expose')
      .description('expose a deployment, replica set, pod or service as a new Service')
      .argument('<args...>', 'TYPE NAME | TYPE/NAME')
      .option('--port <port>', 'the port the service serves on')
      .option('--target-port <port>', 'the port (or port name) on the pods')
      .option('--type <type>', 'ClusterIP, NodePort or LoadBalancer')
      .option('--name <name>', 'name of the new service')
      .option('--protocol <protocol>', 'TCP, UDP or SCTP')
      .option('--selector <labels>', "select these labels instead of the object's"),
  ).action((args: string[], flags) => runExpose(ctxOf(), args, flags));

  const set = program.command('set').description('change fields of existing objects');
  withOutput(
    set
      .command('image')
      .description('set container images: coxctl set image deployment/web CONTAINER=IMAGE')
      .argument('<args...>', 'TYPE/NAME CONTAINER=IMAGE...'),
  ).action((args: string[], flags) => runSetImage(ctxOf(), args, flags));
}

function registerMetadataVerbs(program: Command, { ctxOf }: VerbWiring): void {
  for (const [verb, field] of [
    ['label', 'labels'],
    ['annotate', 'annotations'],
  ] as const) {
    withOutput(
      program
        .command(verb)
        .description(`update the ${field} of objects: KEY=VALUE sets, KEY- removes`)
        .argument('<args...>', 'TYPE NAME... | TYPE/NAME... and KEY=VALUE / KEY-')
        .option('--overwrite', 'allow changing existing values')
        .option('-l, --selector <selector>', 'objects matching this label selector')
        .option('--all', 'every object of the type in the namespace')
        .option('-A, --all-namespaces', 'with -l or --all, across all namespaces'),
    ).action((args: string[], flags) => runMetadataChange(ctxOf(), { field, args }, flags));
  }
  withOutput(
    program
      .command('patch')
      .description('update fields of an object with a strategic merge, JSON merge or JSON patch')
      .argument('<args...>', 'TYPE NAME | TYPE/NAME')
      .option('-p, --patch <patch>', 'the patch (JSON or YAML)')
      .option('--type <type>', 'strategic, merge or json', 'strategic')
      .option('--subresource <name>', 'patch this subresource (status, scale)'),
  ).action((args: string[], flags) => runPatch(ctxOf(), args, flags));
  program
    .command('edit')
    .description('edit an object in $KUBE_EDITOR or $EDITOR')
    .argument('<args...>', 'TYPE NAME | TYPE/NAME')
    .option('-o, --output <format>', 'yaml|json|name')
    .action((args: string[], flags) => runEdit(ctxOf(), args, flags));
}

function registerObservationVerbs(program: Command, { ctxOf }: VerbWiring): void {
  program
    .command('port-forward')
    .description('forward local ports to a pod (pod/NAME, svc/NAME, deploy/NAME)')
    .argument('<resource>', 'TYPE/NAME or a pod name')
    .argument('<ports...>', '[LOCAL:]REMOTE')
    .option('--address <addresses>', 'addresses to listen on, comma-separated', 'localhost')
    .action(async (resource: string, ports: string[], flags) => {
      const abort = new AbortController();
      const stop = (): void => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        await runPortForward(ctxOf(), { resource, ports }, { flags, signal: abort.signal });
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
      }
    });

  const top = program.command('top').description('CPU and memory use of nodes or pods (metrics.k8s.io)');
  top
    .command('node')
    .alias('nodes')
    .argument('[name]')
    .option('-l, --selector <selector>', 'label selector')
    .option('--sort-by <field>', 'cpu or memory')
    .action((name: string | undefined, flags) => runTopNode(ctxOf(), name, flags));
  top
    .command('pod')
    .alias('pods')
    .argument('[name]')
    .option('-l, --selector <selector>', 'label selector')
    .option('--sort-by <field>', 'cpu or memory')
    .option('-A, --all-namespaces', 'across all namespaces')
    .option('--containers', 'one line per container')
    .action((name: string | undefined, flags) => runTopPod(ctxOf(), name, flags));

  program
    .command('wait')
    .description('wait for objects to be deleted, to have a condition, or a field value')
    .argument('<args...>', 'TYPE NAME | TYPE/NAME | TYPE -l SELECTOR | TYPE --all')
    .option('--for <condition>', "delete, condition=NAME[=value] or jsonpath='{.path}'=value")
    .option('--timeout <duration>', 'give up after this long', '30s')
    .option('-l, --selector <selector>', 'label selector')
    .option('--all', 'every object of the type in the namespace')
    .option('-A, --all-namespaces', 'across all namespaces')
    .action((args: string[], flags) => runWait(ctxOf(), args, flags));

  program
    .command('events')
    .description('list events (LAST SEEN, TYPE, REASON, OBJECT, MESSAGE)')
    .option('-A, --all-namespaces', 'across all namespaces')
    .option('--for <object>', 'only the events of TYPE/NAME')
    .option('--types <types>', 'Normal, Warning, or both comma-separated')
    .option('-w, --watch', 'after listing, stream new events')
    .action((flags) => runEvents(ctxOf(), flags));
}

function registerAccessVerbs(program: Command, { ctxOf, exitWith }: VerbWiring): void {
  const auth = program.command('auth').description('inspect authorization');
  auth
    .command('can-i')
    .description('whether an action is allowed: coxctl auth can-i VERB TYPE[/NAME]')
    .argument('[args...]', 'VERB TYPE[/NAME] [NAME] | VERB /non-resource-url')
    .option('--list', 'list everything the identity may do in the namespace')
    .option('--no-headers', 'with --list: no header row')
    .option('-A, --all-namespaces', 'in every namespace')
    .option('--subresource <name>', 'a subresource such as log or scale')
    .option('-q, --quiet', 'only the exit code')
    .action(async (args: string[], flags) => {
      if (flags.list) return runCanIList(ctxOf(), { noHeaders: flags.headers === false });
      if (!(await runCanI(ctxOf(), args, flags))) throw exitWith(1);
    });

  const config = program.command('config').description("the kubeconfig file's contexts");
  config
    .command('view')
    .description('print the kubeconfig (credentials hidden unless --raw)')
    .option('--raw', 'show credentials')
    .option('--minify', 'only what the current context uses')
    .option('-o, --output <format>', 'yaml|json')
    .action((flags) => runConfigView(ctxOf(), flags));
  config
    .command('current-context')
    .description('print the current context')
    .action(() => runCurrentContext(ctxOf()));
  config
    .command('use-context')
    .description('set the current context')
    .argument('<name>')
    .action((name: string) => runUseContext(ctxOf(), name));
  config
    .command('get-contexts')
    .description('list contexts')
    .argument('[name]')
    .option('-o, --output <format>', 'name')
    .option('--no-headers', 'no header row')
    .action((name: string | undefined, flags: { output?: string; headers?: boolean }) =>
      runGetContexts(ctxOf(), name, {
        ...(flags.output !== undefined ? { output: flags.output } : {}),
        noHeaders: flags.headers === false,
      }),
    );

  program
    .command('completion')
    .description('print a shell completion script: source <(coxctl completion bash)')
    .argument('<shell>', 'bash')
    .action((shell: string) => runCompletion(ctxOf(), shell, program));
}

export function registerVerbs(program: Command, wiring: VerbWiring): void {
  program.option('--as <user>', 'act as this user (impersonation)');
  registerCreate(program, wiring);
  registerWorkloadVerbs(program, wiring);
  registerMetadataVerbs(program, wiring);
  registerObservationVerbs(program, wiring);
  registerAccessVerbs(program, wiring);
}
