// Reading an audit Policy file (--audit-policy-file), YAML or JSON, as kube-apiserver does:
// apiVersion audit.k8s.io/v1 and kind Policy, at least one rule, each rule validated with
// Kubernetes' field errors (`rules[0].level: Unsupported value: …`). Unknown fields are
// warnings, not errors: Kubernetes decodes strictly first and falls back to a lenient decode
// with a warning. Anything else malformed is refused as a whole; a policy is never half read.

import { decodeJson, decodeYaml } from '../../api/index.js';
import { errorMessage } from '../../errors/index.js';
import {
  AUDIT_API_VERSION,
  LEVELS,
  STAGES,
  type GroupResources,
  type Level,
  type Policy,
  type PolicyRule,
  type Stage,
} from './types.js';

/** A policy that cannot be used; `errors` lists each field error on its own. */
export class AuditPolicyError extends Error {
  constructor(
    message: string,
    readonly errors: readonly string[],
  ) {
    super(message);
    this.name = 'AuditPolicyError';
  }
}

export interface ParsedPolicy {
  policy: Policy;
  /** Unknown fields that were ignored, as Kubernetes' lenient fallback logs them. */
  warnings: string[];
}

/** At most this many field errors are listed; a hostile file can hold millions. */
const MAX_REPORTED_ERRORS = 50;
/** Values quoted in errors are shortened to this many characters. */
const MAX_QUOTED_VALUE = 80;
/** Policy files are small; this bounds the decoder's work on a hostile one. */
const MAX_POLICY_BYTES = 3 * 1024 * 1024;
const MAX_POLICY_DEPTH = 32;

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const POLICY_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'rules', 'omitStages', 'omitManagedFields']);
const RULE_FIELDS = new Set([
  'level',
  'users',
  'userGroups',
  'verbs',
  'resources',
  'namespaces',
  'nonResourceURLs',
  'omitStages',
  'omitManagedFields',
]);
const GROUP_RESOURCE_FIELDS = new Set(['group', 'resources', 'resourceNames']);

type PlainObject = Record<string, unknown>;

function isPlainObject(value: unknown): value is PlainObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function quote(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > MAX_QUOTED_VALUE ? `${text.slice(0, MAX_QUOTED_VALUE)}...` : text;
}

function isLevel(value: string): value is Level {
  return LEVELS.some((level) => level === value);
}

function isStage(value: string): value is Stage {
  return STAGES.some((stage) => stage === value);
}

/** Collects field errors in Kubernetes' wording and unknown-field warnings. */
class FieldErrors {
  readonly errors: string[] = [];
  readonly warnings: string[] = [];

  required(path: string): void {
    this.errors.push(`${path}: Required value`);
  }

  invalid(path: string, value: unknown, detail: string): void {
    this.errors.push(`${path}: Invalid value: ${quote(value)}: ${detail}`);
  }

  notSupported(path: string, value: unknown, supported: readonly string[]): void {
    const list = supported.map((s) => JSON.stringify(s)).join(', ');
    this.errors.push(`${path}: Unsupported value: ${quote(value)}: supported values: ${list}`);
  }

  unknownFields(obj: PlainObject, known: ReadonlySet<string>, path: string): void {
    for (const key of Object.keys(obj)) {
      if (!known.has(key)) this.warnings.push(`unknown field "${path === '' ? key : `${path}.${key}`}"`);
    }
  }

  /** A list of strings; absent and null mean empty, as in Go. */
  strings(value: unknown, path: string): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.invalid(path, value, 'must be a list of strings');
      return [];
    }
    const out: string[] = [];
    value.forEach((item: unknown, i) => {
      if (typeof item === 'string') out.push(item);
      else this.invalid(`${path}[${i}]`, item, 'must be a string');
    });
    return out;
  }

  optionalBoolean(value: unknown, path: string): boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    this.invalid(path, value, 'must be a boolean');
    return undefined;
  }
}

function readStages(errs: FieldErrors, value: unknown, path: string): Stage[] {
  const stages: Stage[] = [];
  errs.strings(value, path).forEach((stage, i) => {
    if (isStage(stage)) stages.push(stage);
    else errs.invalid(`${path}[${i}]`, stage, `allowed stages are ${STAGES.join(',')}`);
  });
  return stages;
}

function readLevel(errs: FieldErrors, value: unknown, path: string): Level {
  if (value === undefined || value === null || value === '') {
    errs.required(path);
  } else if (typeof value !== 'string' || !isLevel(value)) {
    errs.notSupported(path, value, LEVELS);
  } else {
    return value;
  }
  return 'None';
}

function checkNonResourceURLs(errs: FieldErrors, urls: string[], path: string): void {
  urls.forEach((url, i) => {
    if (url === '*') return;
    if (!url.startsWith('/'))
      errs.invalid(`${path}[${i}]`, url, "non-resource URL rules must begin with a '/' character");
    if (url !== '' && url.slice(0, -1).includes('*'))
      errs.invalid(`${path}[${i}]`, url, "non-resource URL wildcards '*' must be the final character of the rule");
  });
}

function readGroupResources(errs: FieldErrors, value: unknown, path: string): GroupResources | undefined {
  if (!isPlainObject(value)) {
    errs.invalid(path, value, 'must be an object with group, resources and resourceNames');
    return undefined;
  }
  errs.unknownFields(value, GROUP_RESOURCE_FIELDS, path);
  let group = '';
  if (typeof value['group'] === 'string') group = value['group'];
  else if (value['group'] !== undefined && value['group'] !== null)
    errs.invalid(`${path}.group`, value['group'], 'must be a string');
  // Group names are DNS subdomains: `rbac.authorization.k8s.io/v1` is refused, the version does not belong here.
  if (group !== '' && (group.length > 253 || !DNS1123_SUBDOMAIN.test(group)))
    errs.invalid(
      `${path}.group`,
      group,
      group.length > 253 ? 'must be no more than 253 characters' : SUBDOMAIN_MESSAGE,
    );
  const resources = errs.strings(value['resources'], `${path}.resources`);
  const resourceNames = errs.strings(value['resourceNames'], `${path}.resourceNames`);
  if (resourceNames.length > 0 && resources.length === 0)
    errs.invalid(`${path}.resourceNames`, resourceNames, 'using resourceNames requires at least one resource');
  return { group, resources, resourceNames };
}

function readRule(errs: FieldErrors, value: unknown, path: string): PolicyRule | undefined {
  if (!isPlainObject(value)) {
    errs.invalid(path, value, 'must be an object');
    return undefined;
  }
  errs.unknownFields(value, RULE_FIELDS, path);
  const rawResources = value['resources'];
  const resources: GroupResources[] = [];
  if (Array.isArray(rawResources)) {
    rawResources.forEach((item: unknown, i) => {
      const gr = readGroupResources(errs, item, `${path}.resources[${i}]`);
      if (gr !== undefined) resources.push(gr);
    });
  } else if (rawResources !== undefined && rawResources !== null) {
    errs.invalid(`${path}.resources`, rawResources, 'must be a list of {group, resources, resourceNames}');
  }
  const rule: PolicyRule = {
    level: readLevel(errs, value['level'], `${path}.level`),
    users: errs.strings(value['users'], `${path}.users`),
    userGroups: errs.strings(value['userGroups'], `${path}.userGroups`),
    verbs: errs.strings(value['verbs'], `${path}.verbs`),
    resources,
    namespaces: errs.strings(value['namespaces'], `${path}.namespaces`),
    nonResourceURLs: errs.strings(value['nonResourceURLs'], `${path}.nonResourceURLs`),
    omitStages: readStages(errs, value['omitStages'], `${path}.omitStages`),
    omitManagedFields: errs.optionalBoolean(value['omitManagedFields'], `${path}.omitManagedFields`),
  };
  checkNonResourceURLs(errs, rule.nonResourceURLs, `${path}.nonResourceURLs`);
  if (rule.nonResourceURLs.length > 0 && (rule.resources.length > 0 || rule.namespaces.length > 0))
    errs.invalid(
      `${path}.nonResourceURLs`,
      rule.nonResourceURLs,
      'rules cannot apply to both regular resources and non-resource URLs',
    );
  return rule;
}

function checkTypeMeta(errs: FieldErrors, doc: PlainObject): void {
  const { apiVersion, kind } = doc;
  if (apiVersion === undefined || apiVersion === '') errs.required('apiVersion');
  else if (apiVersion !== AUDIT_API_VERSION) errs.notSupported('apiVersion', apiVersion, [AUDIT_API_VERSION]);
  if (kind === undefined || kind === '') errs.required('kind');
  else if (kind !== 'Policy') errs.notSupported('kind', kind, ['Policy']);
}

function readRules(errs: FieldErrors, value: unknown): PolicyRule[] {
  if (value !== undefined && value !== null && !Array.isArray(value)) {
    errs.invalid('rules', value, 'must be a list of rules');
    return [];
  }
  const rules: PolicyRule[] = [];
  (value ?? []).forEach((item: unknown, i: number) => {
    const rule = readRule(errs, item, `rules[${i}]`);
    if (rule !== undefined) rules.push(rule);
  });
  return rules;
}

function summarize(errors: readonly string[]): string {
  const shown = errors.slice(0, MAX_REPORTED_ERRORS);
  const more = errors.length - shown.length;
  const list = more > 0 ? [...shown, `and ${more} more errors`] : shown;
  return list.length === 1 ? (list[0] ?? '') : `[${list.join(', ')}]`;
}

/**
 * Checks decoded data (from YAML, JSON or an object built in code) and returns the policy.
 * Throws AuditPolicyError listing every field error.
 */
export function validatePolicy(doc: unknown): ParsedPolicy {
  const errs = new FieldErrors();
  if (!isPlainObject(doc)) throw new AuditPolicyError('audit policy must be an object (apiVersion, kind, rules)', []);
  errs.unknownFields(doc, POLICY_FIELDS, '');
  checkTypeMeta(errs, doc);
  const rules = readRules(errs, doc['rules']);
  const omitStages = readStages(errs, doc['omitStages'], 'omitStages');
  const omitManagedFields = errs.optionalBoolean(doc['omitManagedFields'], 'omitManagedFields') ?? false;
  if (errs.errors.length > 0) {
    const shown = errs.errors.slice(0, MAX_REPORTED_ERRORS);
    throw new AuditPolicyError(`loaded illegal policy: ${summarize(errs.errors)}`, shown);
  }
  if (rules.length === 0) throw new AuditPolicyError('loaded illegal policy with 0 rules', []);
  const policy: Policy = { apiVersion: AUDIT_API_VERSION, kind: 'Policy', rules, omitStages, omitManagedFields };
  return { policy, warnings: errs.warnings.slice(0, MAX_REPORTED_ERRORS) };
}

/** Parses a policy file's text, YAML or JSON (JSON is read as such when it starts with `{`). */
export function parsePolicy(text: string): ParsedPolicy {
  const limits = { maxBytes: MAX_POLICY_BYTES, maxDepth: MAX_POLICY_DEPTH };
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES)
    throw new AuditPolicyError(`failed decoding: the policy is larger than ${MAX_POLICY_BYTES} bytes`, []);
  let decoded;
  try {
    decoded = text.trimStart().startsWith('{') ? decodeJson(text, limits) : decodeYaml(text, limits);
  } catch (err) {
    throw new AuditPolicyError(`failed decoding: ${errorMessage(err)}`, []);
  }
  const parsed = validatePolicy(decoded.value);
  const duplicates = decoded.duplicateFields.map((f) => `duplicate field "${f}"`);
  return { policy: parsed.policy, warnings: [...duplicates, ...parsed.warnings] };
}
