// coxctl completion bash: a bash completion script made from coxctl's own command tree
// (commander), so it never drifts from the CLI: verbs, subcommands, each command's flags,
// resource types, and object names asked from the cluster with `coxctl get TYPE -o name`
// (passing on -n/--namespace, --context and --kubeconfig from the line being completed).

import type { Command } from 'commander';
import { RESOURCES } from '../../api/registry.js';
import { CliError, type CliContext } from '../context.js';

export interface CompletionCommand {
  /** `get`, or `create deployment` for a subcommand. */
  path: string;
  flags: string[];
  subcommands: string[];
}

export interface CompletionSpec {
  commands: CompletionCommand[];
  globalFlags: string[];
  /** Flags that take a value (the next word is not a positional argument). */
  valueFlags: string[];
  resources: string[];
}

/** Commands whose first argument is a resource type and the next ones names of that type. */
const RESOURCE_COMMANDS = [
  'get',
  'describe',
  'delete',
  'edit',
  'label',
  'annotate',
  'patch',
  'wait',
  'scale',
  'expose',
  'set image',
  'why',
];
/** Commands whose arguments are names of one fixed type. */
const NAME_COMMANDS: Record<string, string> = {
  logs: 'pods',
  exec: 'pods',
  'port-forward': 'pods',
  'top pod': 'pods',
  'top node': 'nodes',
  cordon: 'nodes',
  uncordon: 'nodes',
  drain: 'nodes',
  'config use-context': '',
  'config get-contexts': '',
};

function flagsOf(cmd: Command): { all: string[]; withValue: string[] } {
  const all: string[] = [];
  const withValue: string[] = [];
  for (const o of cmd.options) {
    for (const f of [o.long, o.short]) {
      if (f === undefined) continue;
      all.push(f);
      if (o.required || o.optional) withValue.push(f);
    }
  }
  return { all, withValue };
}

/** The completion spec of a commander program. */
export function completionSpec(program: Command): CompletionSpec {
  const commands: CompletionCommand[] = [];
  const valueFlags = new Set<string>();
  const walk = (cmd: Command, prefix: string): void => {
    for (const sub of cmd.commands) {
      const path = prefix === '' ? sub.name() : `${prefix} ${sub.name()}`;
      const { all, withValue } = flagsOf(sub);
      withValue.forEach((f) => valueFlags.add(f));
      commands.push({ path, flags: all, subcommands: sub.commands.map((c) => c.name()) });
      walk(sub, path);
    }
  };
  walk(program, '');
  const global = flagsOf(program);
  global.withValue.forEach((f) => valueFlags.add(f));
  const resources = new Set<string>();
  for (const r of RESOURCES) {
    resources.add(r.plural);
    resources.add(r.singular);
    for (const s of r.shortNames) resources.add(s);
  }
  return {
    commands,
    globalFlags: global.all,
    valueFlags: [...valueFlags].sort(),
    resources: [...resources].filter((r) => r !== '').sort(),
  };
}

const varName = (path: string): string => path.replace(/[^A-Za-z0-9]/g, '_');
const words = (list: string[]): string => list.join(' ');

/** The completion functions; they read the variables the script defines above them. */
const BASH_FUNCTIONS = [
  '',
  '# Names of objects of one type, from the cluster the line being completed talks to.',
  '__coxctl_names() {',
  '  local args=() i',
  '  for ((i = 1; i < COMP_CWORD; i++)); do',
  '    case "${COMP_WORDS[i]}" in',
  '      -n | --namespace | --context | --kubeconfig) args+=("${COMP_WORDS[i]}" "${COMP_WORDS[i + 1]}") ;;',
  '      --namespace=* | --context=* | --kubeconfig=*) args+=("${COMP_WORDS[i]}") ;;',
  '    esac',
  '  done',
  '  coxctl "${args[@]}" get "$1" -o name 2>/dev/null | sed "s|^[^/]*/||"',
  '}',
  '',
  '__coxctl_contexts() {',
  '  coxctl config get-contexts -o name 2>/dev/null',
  '}',
  '',
  '_coxctl() {',
  '  local cur="${COMP_WORDS[COMP_CWORD]}" i w words=() path="" var',
  '  COMPREPLY=()',
  '  for ((i = 1; i < COMP_CWORD; i++)); do',
  '    w="${COMP_WORDS[i]}"',
  '    if [[ "$w" == -* ]]; then',
  '      [[ "$__coxctl_value_flags" == *" $w "* ]] && ((i++))',
  '      continue',
  '    fi',
  '    words+=("$w")',
  '  done',
  '  # The command path: a verb and, when it has subcommands, the subcommand.',
  '  local n=0',
  '  if ((${#words[@]} > 0)); then',
  '    path="${words[0]}"',
  '    n=1',
  '    var="__coxctl_sub_${path//[^A-Za-z0-9]/_}"',
  '    if [[ -n "${!var}" && ${#words[@]} -gt 1 && " ${!var} " == *" ${words[1]} "* ]]; then',
  '      path="${path}_${words[1]}"',
  '      n=2',
  '    fi',
  '  fi',
  '  local key="${path//[^A-Za-z0-9]/_}"',
  '  if [[ "$cur" == -* ]]; then',
  '    var="__coxctl_flags_${key}"',
  '    COMPREPLY=($(compgen -W "${!var} ${__coxctl_global_flags}" -- "$cur"))',
  '    return 0',
  '  fi',
  '  if [[ -z "$path" ]]; then',
  '    COMPREPLY=($(compgen -W "${__coxctl_verbs}" -- "$cur"))',
  '    return 0',
  '  fi',
  '  var="__coxctl_sub_${key}"',
  '  if [[ -n "${!var}" && ${#words[@]} -eq $n ]]; then',
  '    COMPREPLY=($(compgen -W "${!var}" -- "$cur"))',
  '    return 0',
  '  fi',
  '  local args=$((${#words[@]} - n))',
  '  if [[ "$__coxctl_resource_commands" == *" $key "* ]]; then',
  '    if [[ "$cur" == */* ]]; then',
  '      local type="${cur%%/*}"',
  '      COMPREPLY=($(compgen -P "$type/" -W "$(__coxctl_names "$type")" -- "${cur#*/}"))',
  '    elif ((args == 0)); then',
  '      COMPREPLY=($(compgen -W "${__coxctl_resources}" -- "$cur"))',
  '    elif [[ "${words[n]}" != */* ]]; then',
  '      COMPREPLY=($(compgen -W "$(__coxctl_names "${words[n]}")" -- "$cur"))',
  '    fi',
  '    return 0',
  '  fi',
  '  var="__coxctl_names_of_${key}"',
  '  if [[ -n "${!var+set}" ]]; then',
  '    if [[ -z "${!var}" ]]; then',
  '      COMPREPLY=($(compgen -W "$(__coxctl_contexts)" -- "$cur"))',
  '    elif ((args == 0)); then',
  '      COMPREPLY=($(compgen -W "$(__coxctl_names "${!var}")" -- "$cur"))',
  '    fi',
  '  fi',
  '  return 0',
  '}',
  '',
  'complete -o default -F _coxctl coxctl',
  '',
];

/** The bash script (`source <(coxctl completion bash)`). */
export function bashCompletionScript(spec: CompletionSpec): string {
  const top = spec.commands.filter((c) => !c.path.includes(' ')).map((c) => c.path);
  const lines = [
    '# bash completion for coxctl                                 -*- shell-script -*-',
    '# Load it with: source <(coxctl completion bash)',
    '',
    `__coxctl_verbs="${words(top)}"`,
    `__coxctl_global_flags="${words(spec.globalFlags)}"`,
    `__coxctl_value_flags=" ${words(spec.valueFlags)} "`,
    `__coxctl_resources="${words(spec.resources)}"`,
    `__coxctl_resource_commands=" ${words(RESOURCE_COMMANDS.map(varName))} "`,
  ];
  for (const c of spec.commands) {
    lines.push(`__coxctl_flags_${varName(c.path)}="${words(c.flags)}"`);
    if (c.subcommands.length > 0) lines.push(`__coxctl_sub_${varName(c.path)}="${words(c.subcommands)}"`);
  }
  for (const [path, type] of Object.entries(NAME_COMMANDS)) lines.push(`__coxctl_names_of_${varName(path)}="${type}"`);
  lines.push(...BASH_FUNCTIONS);
  return lines.join('\n');
}

export function runCompletion(ctx: CliContext, shell: string, program: Command): void {
  if (shell !== 'bash') throw new CliError(`Unsupported shell type "${shell}".`);
  ctx.io.stdout(bashCompletionScript(completionSpec(program)));
}
