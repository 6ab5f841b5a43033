/** The Service and Endpoints shapes the proxy reads: the shared API types. */
export type {
  EndpointAddress,
  EndpointPort,
  EndpointSubset,
  Endpoints,
  Service,
  ServicePort,
} from '../../api/types/index.js';
