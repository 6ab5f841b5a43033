// The apiserver flags that shape ServiceAccount tokens, checked as kube-apiserver checks them:
// `--service-account-issuer` (repeatable: the first signs, all are accepted, so an issuer can
// be changed without invalidating live tokens), `--api-audiences` (defaults to the first
// issuer), `--service-account-max-token-expiration` (0 = no cap, else 1 hour to 2^32 seconds)
// and `--service-account-extend-token-expiration`.

export const DEFAULT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** TokenRequest bounds (authentication/validation): at least 10 minutes, at most 2^32 seconds. */
export const MIN_TOKEN_EXPIRATION_SECONDS = 10 * 60;
export const MAX_TOKEN_EXPIRATION_SECONDS = 2 ** 32;
export const DEFAULT_TOKEN_EXPIRATION_SECONDS = 60 * 60;
/** The lifetime the kubelet asks for projected tokens; such pod-bound tokens get extended. */
export const WARN_ONLY_BOUND_TOKEN_EXPIRATION_SECONDS = 60 * 60 + 7;
/** How long an extended token really lives: one year. */
export const EXPIRATION_EXTENSION_SECONDS = 24 * 365 * 60 * 60;

export interface ServiceAccountTokenFlags {
  /** `--service-account-issuer`, in order; default [DEFAULT_ISSUER]. */
  issuers?: readonly string[];
  /** `--api-audiences`; default [first issuer]. */
  apiAudiences?: readonly string[];
  /** `--service-account-max-token-expiration` in seconds; 0 or absent means no cap. */
  maxTokenExpirationSeconds?: number;
  /** `--service-account-extend-token-expiration`; default true, as in Kubernetes. */
  extendTokenExpiration?: boolean;
}

export interface ServiceAccountTokenConfig {
  /** Written into new tokens. */
  issuer: string;
  /** Accepted on verification (the signing issuer first). */
  acceptedIssuers: string[];
  /** The apiserver's own audiences: TokenRequest's default, and what verification expects. */
  apiAudiences: string[];
  /** 0 = uncapped. */
  maxTokenExpirationSeconds: number;
  extendTokenExpiration: boolean;
}

export type ConfigResult = { ok: true; config: ServiceAccountTokenConfig } | { ok: false; errors: string[] };

function issuerErrors(issuers: readonly string[]): string[] {
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const issuer of issuers) {
    if (issuer === '') {
      errors.push('service-account-issuer should not be an empty string');
      continue;
    }
    if (issuer.includes(':') && !URL.canParse(issuer)) {
      errors.push(`service-account-issuer "${issuer}" contained a ':' but was not a valid URL`);
      continue;
    }
    if (seen.has(issuer)) errors.push(`service-account-issuer "${issuer}" is already specified`);
    seen.add(issuer);
  }
  return errors;
}

function maxExpirationErrors(seconds: number): string[] {
  if (seconds === 0) return [];
  const inRange =
    Number.isInteger(seconds) && seconds >= DEFAULT_TOKEN_EXPIRATION_SECONDS && seconds <= MAX_TOKEN_EXPIRATION_SECONDS;
  return inRange ? [] : ['the service-account-max-token-expiration must be between 1 hour and 2^32 seconds'];
}

/** The token configuration from the flags, with defaults, or every flag error at once. */
export function resolveTokenConfig(flags: ServiceAccountTokenFlags = {}): ConfigResult {
  const issuers = flags.issuers === undefined || flags.issuers.length === 0 ? [DEFAULT_ISSUER] : [...flags.issuers];
  const maxTokenExpirationSeconds = flags.maxTokenExpirationSeconds ?? 0;
  const errors = [...issuerErrors(issuers), ...maxExpirationErrors(maxTokenExpirationSeconds)];
  const apiAudiences =
    flags.apiAudiences === undefined || flags.apiAudiences.length === 0 ? [issuers[0]] : [...flags.apiAudiences];
  if (flags.apiAudiences?.some((a) => a === '') === true)
    errors.push('api-audiences should not contain an empty string');
  if (errors.length > 0) return { ok: false, errors };
  return {
    ok: true,
    config: {
      issuer: issuers[0],
      acceptedIssuers: issuers,
      apiAudiences,
      maxTokenExpirationSeconds,
      extendTokenExpiration: flags.extendTokenExpiration ?? true,
    },
  };
}
