// The HTTPS floor of the API benchmark: the least a create over mutual TLS can cost on this
// machine with this client. A server in its own process that checks the client's certificate
// against the cluster CA, reads the JSON body, stamps the metadata a create gains (uid,
// resourceVersion, creationTimestamp) and answers 201 with it: Node's TLS, HTTP and JSON and
// nothing else (no authorization, admission, validation, store or watch). The apiserver's
// rate over the floor's, measured in the same run with the same client, says what share of the
// machine's HTTPS capacity the request path leaves, where the ratio to the bare store also
// counts what the load generator and Node's HTTP stack cost.
//
// Run as a script it serves (`--ca --cert --key` PEM files) and prints `listening <port>`.

import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:https';
import { fileURLToPath } from 'node:url';
import { isObject } from '../pkg/api/meta.js';
import { DEFAULT_MAX_BODY_BYTES, readBody } from '../pkg/apiserver/body.js';
import { stopBounded, waitForLine } from '../test/harness/control-plane.js';

export interface HttpsFloor {
  server: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Starts the floor server with the given PEM files (extra node options first, e.g. the CPU probe). */
export async function startHttpsFloor(
  pem: { ca: string; cert: string; key: string },
  nodeArgs: string[] = [],
): Promise<HttpsFloor> {
  const script = fileURLToPath(import.meta.url);
  const args = [...nodeArgs, script, '--ca', pem.ca, '--cert', pem.cert, '--key', pem.key];
  // Its stdin stays open while this process lives: the server exits when it goes, however it goes.
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const line = await waitForLine(child, /^listening \d+$/m, 10_000);
  const port = Number(/listening (\d+)/.exec(line)?.[1]);
  return {
    server: `https://127.0.0.1:${port}`,
    child,
    stop: () => stopBounded(child),
  };
}

function serve(pem: { ca: string; cert: string; key: string }): void {
  let revision = 0;
  const server = createServer(
    {
      ca: readFileSync(pem.ca),
      cert: readFileSync(pem.cert),
      key: readFileSync(pem.key),
      requestCert: true,
      rejectUnauthorized: true,
    },
    (req, res) => {
      // Read as the apiserver reads a body, under its limit.
      readBody(req, DEFAULT_MAX_BODY_BYTES)
        .then((body) => {
          const object: unknown = JSON.parse(body.toString('utf8'));
          if (!isObject(object) || !isObject(object.metadata)) throw new Error('no metadata');
          revision += 1;
          Object.assign(object.metadata, {
            uid: `floor-${revision}`,
            resourceVersion: String(revision),
            creationTimestamp: new Date().toISOString(),
          });
          const answer = JSON.stringify(object);
          res.writeHead(201, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(answer) });
          res.end(answer);
        })
        .catch(() => {
          res.writeHead(400, { 'Content-Type': 'text/plain' }).end('not a JSON object with metadata (or too big)');
        });
    },
  );
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : 0}\n`);
  });
  process.once('SIGTERM', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.resume();
}

function flag(name: string): string {
  const at = process.argv.indexOf(name);
  const value = at === -1 ? undefined : process.argv[at + 1];
  if (value === undefined) throw new Error(`https-floor: ${name} <file> is required`);
  return value;
}

if (process.argv[1] === fileURLToPath(import.meta.url))
  serve({ ca: flag('--ca'), cert: flag('--cert'), key: flag('--key') });
