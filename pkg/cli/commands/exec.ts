// coxctl exec: runs a command in a container over the apiserver's websocket exec (the
// v5.channel.k8s.io protocol kubectl speaks); -i forwards stdin, -t asks for a terminal.
// Exits with the command's exit code.

import WebSocket from 'ws';
import { CHANNEL, frame } from '../../streaming/index.js';
import { RESOURCES, resourcePath } from '../../api/registry.js';
import { toError } from '../../client/index.js';
import { readStatus } from '../../errors/index.js';
import { CliError, type CliContext } from '../context.js';

const PODS = RESOURCES.pods;

export interface ExecFlags {
  container?: string;
  stdin?: boolean;
  tty?: boolean;
}

/** The pod (POD or pod/POD) and the command to run in it. */
export interface ExecTarget {
  pod: string;
  command: string[];
}

/** Resolves the command's exit code. */
export async function runExec(ctx: CliContext, target: ExecTarget, flags: ExecFlags): Promise<number> {
  const { pod: podArg, command } = target;
  if (command.length === 0) throw new CliError('you must specify at least one command for the container');
  const name = podArg.startsWith('pod/') ? podArg.slice(4) : podArg;
  const client = ctx.client();
  const params = new URLSearchParams();
  for (const c of command) params.append('command', c);
  if (flags.container) params.set('container', flags.container);
  params.set('stdout', 'true');
  if (!flags.tty) params.set('stderr', 'true');
  if (flags.stdin) params.set('stdin', 'true');
  if (flags.tty) params.set('tty', 'true');
  const url =
    client.url(resourcePath(PODS, { namespace: ctx.namespace(), name, subresource: 'exec' }), {}, 'wss') +
    '?' +
    params.toString();
  const ws = new WebSocket(url, ['v5.channel.k8s.io', 'v4.channel.k8s.io'], {
    ...client.tlsOptions(),
    headers: client.authHeaders(),
    perMessageDeflate: false,
  });
  const stdin = process.stdin;
  const rawMode = flags.tty === true && stdin.isTTY === true;
  return new Promise<number>((resolve, reject) => {
    let exitCode = 0;
    let failure: Error | undefined;
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(toError(res.statusCode ?? 0, body)));
    });
    ws.on('open', () => {
      if (flags.tty) {
        const sendSize = (): void =>
          ws.send(
            frame(
              CHANNEL.resize,
              JSON.stringify({ Width: process.stdout.columns ?? 0, Height: process.stdout.rows ?? 0 }),
            ),
          );
        sendSize();
        process.stdout.on('resize', sendSize);
      }
      if (flags.stdin) {
        if (rawMode) stdin.setRawMode(true);
        stdin.on('data', (c: Buffer) => ws.send(frame(CHANNEL.stdin, c)));
        stdin.on('end', () => {
          if (ws.protocol === 'v5.channel.k8s.io') ws.send(Buffer.from([CHANNEL.close, CHANNEL.stdin]));
        });
        stdin.resume();
      }
    });
    ws.on('message', (data: Buffer) => {
      const channel = data[0];
      const body = data.subarray(1);
      if (channel === CHANNEL.stdout) ctx.io.stdout(body.toString());
      else if (channel === CHANNEL.stderr) ctx.io.stderr(body.toString());
      else if (channel === CHANNEL.error && body.length > 0) {
        const status = readStatus(JSON.parse(body.toString()));
        if (status?.status === 'Failure') {
          const code = status.details?.causes?.find((c) => c.reason === 'ExitCode')?.message;
          if (status.reason === 'NonZeroExitCode' && code !== undefined) exitCode = Number(code);
          else failure = new CliError(status.message ?? 'exec failed');
        }
      }
    });
    ws.on('error', (err) => reject(new CliError(`exec: ${err.message}`)));
    ws.on('close', () => {
      if (rawMode) stdin.setRawMode(false);
      stdin.pause();
      if (failure) reject(failure);
      else resolve(exitCode);
    });
  });
}
