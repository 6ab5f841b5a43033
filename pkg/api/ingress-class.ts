// The built-in IngressClass: the apiserver creates it at bootstrap, admission gives it to
// Ingresses that name no class, and the node agents' ingress proxies serve its Ingresses.

export const INGRESS_CLASS_NAME = 'coxswain';
export const INGRESS_CONTROLLER = 'coxswain.dev/ingress';
export const DEFAULT_INGRESS_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
