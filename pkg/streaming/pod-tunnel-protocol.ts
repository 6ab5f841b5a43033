// The apiserver's CONNECT tunnel to a node agent (the proxy subresources): the request names
// the pod in this header, and the agent dials only if the address is that pod's.

export const TUNNEL_POD_HEADER = 'coxswain-tunnel-pod';
