// What the node agent needs of a container runtime. Pod sync, probes, the server and the pod
// network take this interface; docker.ts implements it for real, fake.ts in memory for tests.

import type { Readable } from 'node:stream';
import type { ContainerIdentity } from './labels.js';

export class ImagePullError extends Error {
  constructor(image: string, why: string) {
    super(`failed to pull image "${image}": ${why}`);
    this.name = 'ImagePullError';
  }
}

/** The container's config cannot be applied as asked (e.g. runAsNonRoot and the image runs as root). */
export class ContainerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ContainerConfigError';
  }
}

export interface Mount {
  hostPath: string;
  containerPath: string;
  readOnly: boolean;
}

/** A container's securityContext (merged with the pod's) as the runtime applies it. */
export interface ContainerSecurity {
  privileged?: boolean;
  /** The host's PID namespace (pod hostPID) instead of the container's own. */
  hostPID?: boolean;
  /** The host's IPC namespace (pod hostIPC) instead of the sandbox's. */
  hostIPC?: boolean;
  /** The sandbox's PID namespace, shared by the pod's containers (shareProcessNamespace). */
  sharePodPID?: boolean;
  /** Capability names as Kubernetes writes them (NET_ADMIN, ALL). */
  capAdd?: string[];
  capDrop?: string[];
  runAsUser?: number;
  runAsGroup?: number;
  /** Refuse to start when the process would run as uid 0 (or as a user name that cannot be checked). */
  runAsNonRoot?: boolean;
  /** Extra groups of the process (supplementalGroups and fsGroup). */
  supplementalGroups?: number[];
  readOnlyRootFilesystem?: boolean;
  /** allowPrivilegeEscalation: false. */
  noNewPrivileges?: boolean;
  /** Profiles of type Unconfined; RuntimeDefault is the runtime's default. */
  seccompUnconfined?: boolean;
  appArmorUnconfined?: boolean;
}

export interface ContainerSpec {
  image: string;
  /** Replaces the image's entrypoint (Kubernetes `command`). */
  command?: string[];
  /** Replaces the image's cmd (Kubernetes `args`). */
  args?: string[];
  env: string[];
  workingDir?: string;
  mounts: Mount[];
  memoryLimitBytes?: number;
  nanoCpus?: number;
  cpuShares?: number;
  tty?: boolean;
  stdin?: boolean;
  /** Stdin closes when the first attached client detaches (Kubernetes stdinOnce). */
  stdinOnce?: boolean;
  /** Joins this container's PID namespace (an ephemeral container's targetContainerName). */
  pidNamespaceOf?: string;
  security?: ContainerSecurity;
  /** Extra labels; the identity labels win over these. */
  labels?: Record<string, string>;
}

/** A pod's hostPort: traffic to hostIP:hostPort reaches containerPort in the sandbox. */
export interface PortBinding {
  containerPort: number;
  hostPort: number;
  protocol: 'TCP' | 'UDP' | 'SCTP';
  hostIP?: string;
}

export interface SandboxSpec {
  image: string;
  network: string;
  hostname: string;
  dns?: { servers: string[]; searches: string[]; options: string[] };
  hostNetwork?: boolean;
  /** The pod's hostPID and hostIPC: the sandbox runs in the host's namespaces too. */
  hostPID?: boolean;
  hostIPC?: boolean;
  portBindings?: PortBinding[];
  /** Extra labels; the identity labels win over these. */
  labels?: Record<string, string>;
}

export interface ContainerState {
  id: string;
  identity: ContainerIdentity;
  running: boolean;
  exitCode: number;
  oomKilled: boolean;
  createdAt: string;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  imageId: string;
  image: string;
  ip: string | undefined;
  /** The main process on the host while running. */
  pid: number | undefined;
  /** Docker's state: created, running, exited, … */
  status: string;
  /** Why Docker could not start it (e.g. the executable was not found). */
  error: string | undefined;
}

/** What a cheap relist sees: no inspect per container. */
export interface ManagedSummary {
  id: string;
  identity: ContainerIdentity;
  /** Docker's state: created, running, exited, … */
  status: string;
}

export interface LogOptions {
  follow?: boolean;
  tailLines?: number;
  timestamps?: boolean;
  /** Only lines written at or after this time. */
  since?: Date;
}

export interface ExecSession {
  stdin: NodeJS.WritableStream | undefined;
  stdout: Readable;
  stderr: Readable;
  resize(width: number, height: number): Promise<void>;
  /** Resolves with the exit code once the command ends. */
  exitCode: Promise<number>;
}

/** A client attached to a container's main process. */
export interface AttachSession {
  /** Undefined when the container has no open stdin (stdin: false) or none was asked for. */
  stdin: NodeJS.WritableStream | undefined;
  /** Whether the end of the client's input closes the process's stdin (Kubernetes stdinOnce). */
  stdinOnce: boolean;
  stdout: Readable;
  stderr: Readable;
  resize(width: number, height: number): Promise<void>;
  /** Resolves when the attached streams end (the process exited, or close() was called). */
  ended: Promise<void>;
  /** Detaches (the process goes on). */
  close(): void;
}

export interface NetworkOptions {
  bridgeName?: string;
  masquerade?: boolean;
  replace?: boolean;
}

/** A bridge network's subnet and gateway, and how it is made. */
export interface NetworkSpec extends NetworkOptions {
  subnet: string;
  gateway: string;
}

/** One sample of a running container's resource use (what the kubelet's cadvisor reports). */
export interface ContainerStats {
  /** CPU time used since the container started, cumulative, in nanoseconds. */
  cpuUsageNanoseconds: number;
  /** Memory in use minus inactive page cache: what the kernel cannot reclaim (the working set). */
  memoryWorkingSetBytes: number;
}

export interface ContainerRuntime {
  /** The runtime's version (the node's containerRuntimeVersion). */
  version(): Promise<string>;
  imagePresent(image: string): Promise<boolean>;
  /** Makes the image available per the pull policy; ImagePullError when it cannot be had. */
  ensureImage(image: string, pullPolicy: string): Promise<void>;
  /** A bridge network of this owner with the given subnet (see DockerRuntime). */
  ensureNetwork(name: string, spec: NetworkSpec): Promise<void>;
  removeNetwork(name: string): Promise<void>;
  /** Removes every container and network of this runtime's cluster. */
  removeCluster(): Promise<{ containers: number; networks: number }>;
  /** Creates and starts the pod's sandbox; returns its id. */
  runSandbox(identity: ContainerIdentity, spec: SandboxSpec): Promise<string>;
  /** Creates (not starts) a container joined to the sandbox's namespaces; returns its id. */
  createContainer(sandboxId: string, identity: ContainerIdentity, spec: ContainerSpec): Promise<string>;
  start(id: string): Promise<void>;
  /** SIGTERM, then SIGKILL after the grace period; stopped or gone already is fine. */
  stop(id: string, graceSeconds: number): Promise<void>;
  /** Removes a container; gone already is fine. */
  remove(id: string): Promise<void>;
  inspect(id: string): Promise<ContainerState | undefined>;
  /** Every container this agent created on this node (or of one pod), running or not. */
  listManaged(podUid?: string): Promise<ContainerState[]>;
  /** A cheap relist: identities and states only. */
  listManagedSummary(): Promise<ManagedSummary[]>;
  /** stdout and stderr in order, as one byte stream. */
  logs(id: string, opts: LogOptions): Promise<Readable>;
  exec(id: string, opts: { cmd: string[]; tty: boolean; stdin: boolean }): Promise<ExecSession>;
  /** Attaches to the main process's streams (stdin only when asked and the container keeps it open). */
  attach(id: string, opts: { stdin: boolean }): Promise<AttachSession>;
  /** One resource sample of a running container; undefined when it is gone or not running. */
  stats(id: string): Promise<ContainerStats | undefined>;
}
