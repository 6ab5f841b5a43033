// PriorityClasses and the Priority admission plugin, after Kubernetes' plugin/pkg/admission/priority:
// - a class defaults its preemptionPolicy to PreemptLowerPriority, and only one class may be
//   the global default (403 otherwise);
// - a new pod's priorityClassName is resolved to spec.priority and spec.preemptionPolicy (the
//   global default class when it names none; priority 0 when there is none); an unknown class,
//   or a priority or policy the pod sets that differs from its class's, is refused (403);
// - every cluster has the system classes system-cluster-critical and system-node-critical.

import { RESOURCES, storageKey, type KubeObject, type Pod, type PriorityClass } from '../../api/index.js';
import { SYSTEM_PRIORITY_CLASSES } from '../../api/validation-policy.js';
import { ApiError } from '../../errors/index.js';
import { ensureCreated } from '../bootstrap.js';
import type { Store } from '../../storage/index.js';
import type { RestStore } from '../rest-store.js';
import { storedAs } from '../write-meta.js';
import { defaultStrategy } from './default.js';
import type { Strategy } from './types.js';

const DEFAULT_PREEMPTION = 'PreemptLowerPriority';

function forbidden(resource: string, name: string, why: string): ApiError {
  const [plural = resource, group = ''] = resource.split(/\.(.*)/s);
  return new ApiError('Forbidden', `${resource} ${JSON.stringify(name)} is forbidden: ${why}`, {
    details: { name, group, kind: plural },
  });
}

async function priorityClasses(store: Store): Promise<PriorityClass[]> {
  const listed = await store.list(storageKey(RESOURCES.priorityclasses));
  return listed.items.map((i) => storedAs(RESOURCES.priorityclasses, i.object));
}

/** The global default class; should a race have made several, the lowest-valued one (as Kubernetes picks). */
function globalDefault(classes: readonly PriorityClass[]): PriorityClass | undefined {
  const defaults = classes.filter((c) => c.globalDefault === true);
  defaults.sort((a, b) => a.value - b.value);
  return defaults[0];
}

/** Refuses a second global default class. */
async function checkSingleDefault(store: Store, obj: KubeObject): Promise<void> {
  const pc = storedAs(RESOURCES.priorityclasses, obj);
  if (pc.globalDefault !== true) return;
  const other = (await priorityClasses(store)).find(
    (c) => c.globalDefault === true && c.metadata.name !== pc.metadata.name,
  );
  if (other !== undefined)
    throw forbidden(
      'priorityclasses.scheduling.k8s.io',
      pc.metadata.name ?? '',
      `PriorityClass ${other.metadata.name ?? ''} is already marked as default. Only one default can exist`,
    );
}

export function priorityClassStrategy(store: Store | undefined): Strategy {
  return {
    ...defaultStrategy,
    normalize(obj) {
      obj['preemptionPolicy'] ??= DEFAULT_PREEMPTION;
    },
    ...(store !== undefined && {
      admitCreate: async (obj: KubeObject) => {
        await checkSingleDefault(store, obj);
        return [];
      },
      admitUpdate: async ({ next }: { next: KubeObject }) => {
        await checkSingleDefault(store, next);
        return [];
      },
    }),
  };
}

/** Resolves a new pod's priority from its class (Kubernetes' Priority admission on pod create). */
export async function admitPodPriority(store: Store, obj: KubeObject): Promise<void> {
  const pod: Pod = storedAs(RESOURCES.pods, obj);
  const spec = pod.spec;
  if (spec === undefined) return;
  const podName = pod.metadata.name ?? pod.metadata.generateName ?? '';
  const refuse = (why: string): ApiError => forbidden('pods', podName, why);
  let className = spec.priorityClassName ?? '';
  let priority = 0;
  let policy: string = DEFAULT_PREEMPTION;
  if (className === '') {
    const chosen = globalDefault(await priorityClasses(store));
    if (chosen !== undefined) {
      className = chosen.metadata.name ?? '';
      priority = chosen.value;
      policy = chosen.preemptionPolicy ?? DEFAULT_PREEMPTION;
    }
  } else {
    const item = await store.get(storageKey(RESOURCES.priorityclasses, undefined, className));
    if (item === undefined) throw refuse(`no PriorityClass with name ${className} was found`);
    const pc = storedAs(RESOURCES.priorityclasses, item.object);
    priority = pc.value;
    policy = pc.preemptionPolicy ?? DEFAULT_PREEMPTION;
  }
  if (spec.priority !== undefined && spec.priority !== priority)
    throw refuse(
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
    );
  if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== policy)
    throw refuse(
      `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
    );
  const resolved: Record<string, unknown> = { ...spec, priority, preemptionPolicy: policy };
  if (className !== '') resolved['priorityClassName'] = className;
  obj['spec'] = resolved;
}

/** The system classes every cluster has; made by whichever apiserver starts first. */
export async function ensureSystemPriorityClasses(store: RestStore): Promise<void> {
  for (const [name, value] of SYSTEM_PRIORITY_CLASSES) {
    await ensureCreated(store, RESOURCES.priorityclasses, {
      apiVersion: 'scheduling.k8s.io/v1',
      kind: 'PriorityClass',
      metadata: { name },
      value,
      description:
        name === 'system-node-critical'
          ? 'Used for system critical pods that must not be moved from their current node.'
          : 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
      preemptionPolicy: DEFAULT_PREEMPTION,
    });
  }
}
