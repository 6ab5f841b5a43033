/** Minimal shapes of the Service and Endpoints objects the proxy reads. */
import type { ObjectMeta } from '../../api/meta.js';

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
  targetPort?: number | string;
  nodePort?: number;
}

export interface Service {
  metadata: ObjectMeta;
  spec?: { type?: string; clusterIP?: string; ports?: ServicePort[] };
}

export interface EndpointAddress {
  ip: string;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol?: string;
}

export interface EndpointSubset {
  addresses?: EndpointAddress[];
  notReadyAddresses?: EndpointAddress[];
  ports?: EndpointPort[];
}

export interface Endpoints {
  metadata: ObjectMeta;
  subsets?: EndpointSubset[];
}
