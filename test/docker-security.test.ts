// The node agent's Docker runtime applies a container's security settings for real, each
// case next to the same container without it: added capabilities may change the pod's
// network links (privileged where dockerd can grant every capability), hostPID sees the
// host's processes, hostIPC the host's IPC namespace, runAsUser/runAsGroup/groups set the
// ids, a read-only root cannot be written, dropping ALL capabilities takes chown,
// no-new-privileges is set, runAsNonRoot refuses root, fsGroup owns the volumes. Needs Docker
// and busybox; fails, never skips, without them. Everything made carries this run's labels
// and is removed at the end.

import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  ContainerConfigError,
  DockerRuntime,
  type ContainerSecurity,
  type ContainerState,
  type Mount,
} from '../pkg/kubelet/index.js';
import { prepareVolumes } from '../pkg/kubelet/volumes.js';
import { runRoot } from './harness/run-root.js';
import type { Pod } from '../pkg/api/index.js';

const RUN = randomBytes(4).toString('hex');
const SOCKET = process.env['DOCKER_SOCKET'] ?? '/var/run/docker.sock';
const BUSYBOX = 'busybox:latest';
const PAUSE = 'coxswain/pause:latest';
const POD = { uid: randomUUID(), namespace: 'sec-test', name: `pod-${RUN}` };

let runtime: DockerRuntime;
let sandboxId = '';
let sandboxPid = 0;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function exited(id: string): Promise<ContainerState> {
  for (let i = 0; i < 300; i++) {
    const state = await runtime.inspect(id);
    assert.ok(state, `container ${id.slice(0, 12)} is gone`);
    if (!state.running && state.status !== 'created') return state;
    await sleep(100);
  }
  throw new Error(`container ${id.slice(0, 12)} did not exit`);
}

/** Runs `script` in a new container of the test pod with these settings; its exit code and output. */
function runScript(name: string, security: ContainerSecurity, script: string): Promise<{ code: number; out: string }> {
  return runScriptWith(name, { security, mounts: [] }, script);
}

async function runScriptWith(
  name: string,
  settings: { security: ContainerSecurity; mounts: Mount[] },
  script: string,
): Promise<{ code: number; out: string }> {
  const id = await runtime.createContainer(
    sandboxId,
    { ...POD, containerName: name, attempt: 0, type: 'app', specHash: 'h' },
    { image: BUSYBOX, command: ['sh', '-c', script], env: [], ...settings },
  );
  await runtime.start(id);
  const state = await exited(id);
  const chunks: Buffer[] = [];
  for await (const chunk of await runtime.logs(id, {})) chunks.push(Buffer.from(chunk as Buffer));
  return { code: state.exitCode, out: Buffer.concat(chunks).toString().trim() };
}

before(async () => {
  runtime = new DockerRuntime({ socketPath: SOCKET, nodeName: `sec-test-${RUN}`, clusterId: RUN });
  for (const image of [BUSYBOX, PAUSE])
    assert.ok(await runtime.imagePresent(image), `image ${image} is missing: run scripts/setup-host.sh`);
  // The default bridge: the sandbox's own network namespace is all these cases need.
  sandboxId = await runtime.runSandbox(
    { ...POD, containerName: 'POD', attempt: 0, type: 'sandbox', specHash: '' },
    { image: PAUSE, network: 'bridge', hostname: POD.name },
  );
  sandboxPid = (await runtime.inspect(sandboxId))?.pid ?? 0;
  assert.ok(sandboxPid > 0, 'the sandbox runs');
});

after(async () => {
  if (runtime === undefined) return;
  const left = await runtime.listManaged();
  await Promise.all(left.map((c) => runtime.remove(c.id)));
  assert.deepEqual(await runtime.listManaged(), [], 'the test left containers behind');
});

describe('Docker runtime: security settings', { concurrency: false }, () => {
  test('adding NET_ADMIN lets root change a link of the pod network namespace; without it root may not', async () => {
    const added = await runScript('netadmin', { capAdd: ['NET_ADMIN'] }, 'ip link set lo mtu 1400 && echo set');
    assert.deepEqual(added, { code: 0, out: 'set' });
    const plain = await runScript('plain', {}, 'ip link set lo mtu 1300 && echo set');
    assert.notEqual(plain.code, 0);
    assert.match(plain.out, /not permitted/i);
  });

  test('privileged reaches Docker as Privileged, and either runs with every capability or fails loudly', async (t) => {
    // A dockerd whose own bounding set lacks a capability (as in some sandboxes) cannot start
    // privileged containers: the start fails with runc's reason, which the agent reports.
    const result = await runScript('priv', { privileged: true }, 'ip link set lo mtu 1200 && echo set').then(
      (ran) => ran,
      (err: unknown) => err,
    );
    const created = (await runtime.listManaged(POD.uid)).find((c) => c.identity.containerName === 'priv');
    assert.ok(created, 'the privileged container was created');
    const info = await runtime.docker.getContainer(created.id).inspect();
    assert.equal(info.HostConfig.Privileged, true);
    if (result instanceof Error) {
      assert.match(result.message, /unable to apply caps/);
      t.diagnostic(`this dockerd cannot start privileged containers: ${result.message}`);
    } else assert.deepEqual(result, { code: 0, out: 'set' });
  });

  test("hostPID sees the host's processes (the sandbox's pause by its host pid); without it PID 1 is the container's own", async () => {
    const host = await runScript('hostpid', { hostPID: true }, `cat /proc/${sandboxPid}/comm`);
    assert.deepEqual(host, { code: 0, out: 'pause' });
    const own = await runScript('ownpid', {}, `cat /proc/1/comm; test -e /proc/${sandboxPid}/comm || echo unseen`);
    assert.equal(own.out.split('\n')[0], 'sh');
    // shareProcessNamespace: PID 1 is the sandbox's pause, as in Kubernetes.
    const shared = await runScript('sharedpid', { sharePodPID: true }, 'cat /proc/1/comm');
    assert.deepEqual(shared, { code: 0, out: 'pause' });
  });

  test("hostIPC is the host's IPC namespace (dockerd's); without it, the pod's", async () => {
    // The test runs on the Docker host, in dockerd's IPC namespace ("host"); the pod's is the sandbox's.
    const hostIpc = readlinkSync('/proc/self/ns/ipc');
    const script = `readlink /proc/self/ns/ipc; readlink /proc/${sandboxPid}/ns/ipc`;
    const host = await runScript('hostipc', { hostPID: true, hostIPC: true }, script);
    assert.equal(host.code, 0, host.out);
    assert.equal(host.out.split('\n')[0], hostIpc);
    const pod = await runScript('podipc', { hostPID: true }, script);
    const [own, sandbox] = pod.out.split('\n');
    assert.notEqual(own, hostIpc);
    assert.equal(own, sandbox, "without hostIPC a container is in the sandbox's IPC namespace");
  });

  test('runAsUser, runAsGroup and the supplementary groups set the ids; unset, root', async () => {
    const ids = await runScript(
      'ids',
      { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [4000] },
      'id -u; id -g; id -G',
    );
    assert.equal(ids.code, 0);
    const [uid, gid, groups] = ids.out.split('\n');
    assert.equal(uid, '1000');
    assert.equal(gid, '3000');
    assert.deepEqual(groups?.split(' ').sort(), ['3000', '4000']);
    assert.deepEqual(await runScript('root', {}, 'id -u'), { code: 0, out: '0' });
    // runAsGroup alone keeps the image's user (root in busybox).
    assert.deepEqual(await runScript('grouponly', { runAsGroup: 3000 }, 'echo $(id -u):$(id -g)'), {
      code: 0,
      out: '0:3000',
    });
  });

  test('runAsNonRoot refuses an image that runs as root, and accepts runAsUser 1000', async () => {
    await assert.rejects(
      runScript('nonroot-refused', { runAsNonRoot: true }, 'id -u'),
      (err: unknown) =>
        err instanceof ContainerConfigError && /runAsNonRoot and image will run as root/.test(err.message),
    );
    assert.deepEqual(await runScript('nonroot', { runAsNonRoot: true, runAsUser: 1000 }, 'id -u'), {
      code: 0,
      out: '1000',
    });
  });

  test('a read-only root filesystem cannot be written; a writable one can', async () => {
    const readOnly = await runScript('ro', { readOnlyRootFilesystem: true }, 'touch /x && echo wrote');
    assert.notEqual(readOnly.code, 0);
    assert.match(readOnly.out, /read-only file system/i);
    assert.deepEqual(await runScript('rw', {}, 'touch /x && echo wrote'), { code: 0, out: 'wrote' });
  });

  test('dropping ALL capabilities takes chown from root; adding one back returns it', async () => {
    const dropped = await runScript('dropall', { capDrop: ['ALL'] }, 'chown 1 /tmp && echo chowned');
    assert.notEqual(dropped.code, 0);
    assert.match(dropped.out, /not permitted/i);
    assert.deepEqual(
      await runScript('addback', { capDrop: ['ALL'], capAdd: ['CHOWN'] }, 'chown 1 /tmp && echo chowned'),
      {
        code: 0,
        out: 'chowned',
      },
    );
  });

  test('allowPrivilegeEscalation: false sets no_new_privs; by default it is unset', async () => {
    const flag = "grep NoNewPrivs /proc/self/status | tr -d ' \\t'";
    assert.deepEqual(await runScript('nnp', { noNewPrivileges: true }, flag), { code: 0, out: 'NoNewPrivs:1' });
    assert.deepEqual(await runScript('nnp-default', {}, flag), { code: 0, out: 'NoNewPrivs:0' });
  });

  test("fsGroup owns the pod's volumes: a non-root user of the group writes the emptyDir, files it makes keep the group", async () => {
    const root = mkdtempSync(join(runRoot(), 'fsgroup-'));
    try {
      const volumes = async (fsGroup?: number): Promise<Mount[]> => {
        const pod: Pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'p', namespace: 'ns', uid: randomUUID(), labels: { app: 'x' } },
          spec: {
            ...(fsGroup === undefined ? {} : { securityContext: { fsGroup } }),
            containers: [{ name: 'c', image: BUSYBOX }],
            volumes: [
              { name: 'scratch', emptyDir: {} },
              {
                name: 'info',
                downwardAPI: {
                  defaultMode: 0o400,
                  items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }],
                },
              },
            ],
          },
        };
        const noObjects = { get: () => Promise.reject(new Error('no API objects in this test')) };
        const dirs = await prepareVolumes(pod, noObjects, { rootDir: root });
        return [
          { hostPath: dirs.get('scratch') ?? '', containerPath: '/scratch', readOnly: false },
          { hostPath: dirs.get('info') ?? '', containerPath: '/info', readOnly: true },
        ];
      };
      const script = 'stat -c %g /scratch; touch /scratch/made && stat -c %g /scratch/made; cat /info/labels && echo';
      const user = { runAsUser: 1000, runAsGroup: 3000, supplementalGroups: [2000] };
      const owned = await runScriptWith('fsgroup', { security: user, mounts: await volumes(2000) }, script);
      assert.deepEqual(owned, { code: 0, out: '2000\n2000\napp="x"' });
      // Without fsGroup the files stay root's: the 0400 downwardAPI file is unreadable to the user.
      const plain = await runScriptWith('nofsgroup', { security: user, mounts: await volumes() }, script);
      assert.notEqual(plain.code, 0);
      // stdout and stderr interleave in the log: compare lines, not their order.
      const lines = plain.out.split('\n');
      assert.ok(lines.includes('0') && lines.includes('3000'), plain.out);
      assert.match(plain.out, /Permission denied/);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
