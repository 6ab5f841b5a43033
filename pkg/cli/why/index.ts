// `coxctl why`: a diagnosis of a pod or a Deployment, pure over the API objects the command read.

export type { Diagnosis, DeploymentEvidence, Finding, Lookup, PodEvidence } from './types.js';
export { diagnosePod, podReferences, summariseScheduling, MAX_REFERENCES, type PodReferences } from './pod.js';
export { diagnoseDeployment, newestReplicaSet } from './deployment.js';
export { renderDiagnosis } from './render.js';
