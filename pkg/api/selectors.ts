// Label and field selectors, parsed and matched as Kubernetes does.

import { ApiError, badRequest } from '../errors/index.js';
import { isObject, type KubeObject } from './meta.js';

export type LabelOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'Equals' | 'NotEquals';

export interface LabelSelectorRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/** The object form used in specs. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

// Label keys and values (Kubernetes' IsQualifiedName and IsValidLabelValue): a key is an
// optional DNS-1123 subdomain prefix (at most 253 characters) and '/', then a name of at
// most 63 characters; a value is empty or a name of at most 63 characters.
const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const MAX_NAME = 63;
const MAX_PREFIX = 253;

/** Why a label key is not valid, or undefined when it is. */
export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split('/');
  if (parts.length > 2)
    return "a qualified name must consist of alphanumeric characters, '-', '_' or '.', with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
  const name = parts.length === 2 ? (parts[1] ?? '') : key;
  if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    if (prefix === '') return 'prefix part must be non-empty';
    if (prefix.length > MAX_PREFIX) return `prefix part must be no more than ${MAX_PREFIX} characters`;
    if (!DNS1123_SUBDOMAIN.test(prefix))
      return "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  }
  if (name === '') return 'name part must be non-empty';
  if (name.length > MAX_NAME) return `name part must be no more than ${MAX_NAME} characters`;
  if (!NAME.test(name))
    return "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

/** Why a label value is not valid, or undefined when it is. */
export function labelValueProblem(value: string): string | undefined {
  if (value === '') return undefined;
  if (value.length > MAX_NAME) return `must be no more than ${MAX_NAME} characters`;
  if (!NAME.test(value))
    return "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
  return undefined;
}

function checkKey(key: string, text: string): void {
  const problem = labelKeyProblem(key);
  if (problem !== undefined)
    throw badRequest(
      `unable to parse requirement: key: Invalid value: ${JSON.stringify(key)}: ${problem} (in selector ${JSON.stringify(text)})`,
    );
}

function checkValue(value: string, text: string): void {
  const problem = labelValueProblem(value);
  if (problem !== undefined)
    throw badRequest(
      `unable to parse requirement: values[0][${JSON.stringify(value)}]: Invalid value: ${JSON.stringify(value)}: ${problem} (in selector ${JSON.stringify(text)})`,
    );
}

/** Splits on commas that are not inside parentheses. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of text) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      terms.push(cur);
      cur = '';
    } else cur += ch;
  }
  terms.push(cur);
  return terms.map((t) => t.trim()).filter((t) => t !== '');
}

export function parseLabelSelector(text: string): LabelSelectorRequirement[] {
  const out: LabelSelectorRequirement[] = [];
  for (const term of splitTerms(text)) {
    let m: RegExpMatchArray | null;
    if ((m = term.match(/^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/))) {
      const key = m[1] ?? '';
      checkKey(key, text);
      const values = (m[3] ?? '')
        .split(',')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (values.length === 0 && m[2] === 'in')
        throw badRequest(`unable to parse requirement: for 'in' operator, values set can't be empty`);
      values.forEach((v) => checkValue(v, text));
      out.push({ key, operator: m[2] === 'in' ? 'In' : 'NotIn', values });
    } else if ((m = term.match(/^(\S+?)\s*(==|!=|=)\s*(\S*)$/))) {
      const key = m[1] ?? '';
      const value = m[3] ?? '';
      checkKey(key, text);
      checkValue(value, text);
      out.push({ key, operator: m[2] === '!=' ? 'NotEquals' : 'Equals', values: [value] });
    } else if ((m = term.match(/^!\s*(\S+)$/))) {
      checkKey(m[1] ?? '', text);
      out.push({ key: m[1] ?? '', operator: 'DoesNotExist', values: [] });
    } else if (/^\S+$/.test(term)) {
      checkKey(term, text);
      out.push({ key: term, operator: 'Exists', values: [] });
    } else {
      throw badRequest(
        `unable to parse requirement: found '${term}', expected: in, notin, =, ==, !=, or end of string`,
      );
    }
  }
  return out;
}

/** The object form as requirements; undefined selector → undefined (matches nothing), `{}` → [] (everything). */
export function labelSelectorFromObject(sel: LabelSelector | undefined): LabelSelectorRequirement[] | undefined {
  if (sel === undefined) return undefined;
  const out: LabelSelectorRequirement[] = [];
  for (const [key, value] of Object.entries(sel.matchLabels ?? {}))
    out.push({ key, operator: 'Equals', values: [value] });
  for (const e of sel.matchExpressions ?? []) {
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0)
          throw new ApiError(
            'Invalid',
            `values: Required value: must be specified when \`operator\` is 'In' or 'NotIn'`,
          );
        out.push({ key: e.key, operator: e.operator, values });
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0)
          throw new ApiError(
            'Invalid',
            `values: Forbidden: may not be specified when \`operator\` is 'Exists' or 'DoesNotExist'`,
          );
        out.push({ key: e.key, operator: e.operator, values: [] });
        break;
      default:
        throw new ApiError(
          'Invalid',
          `operator: Unsupported value: "${e.operator}": supported values: "In", "NotIn", "Exists", "DoesNotExist"`,
        );
    }
  }
  return out;
}

export function matchesLabels(
  reqs: LabelSelectorRequirement[] | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (reqs === undefined) return false;
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.operator) {
      case 'Equals':
        return has && v === r.values[0];
      case 'NotEquals':
        return !has || v !== r.values[0];
      case 'In':
        return has && r.values.includes(v ?? '');
      case 'NotIn':
        return !has || !r.values.includes(v ?? '');
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
    }
  });
}

/** Whether an object-form selector matches labels (undefined selector matches nothing). */
export function selectorMatches(sel: LabelSelector | undefined, labels: Record<string, string> | undefined): boolean {
  return matchesLabels(labelSelectorFromObject(sel), labels);
}

/** `app=web,tier in (a,b)`: how kubectl prints a selector. */
export function labelSelectorToString(sel: LabelSelector | undefined): string {
  if (sel === undefined) return '<none>';
  const parts = Object.entries(sel.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length > 0 ? parts.join(',') : '<none>';
}

// ---- field selectors ----------------------------------------------------------------------

export interface FieldRequirement {
  field: string;
  equal: boolean;
  value: string;
}

const SUPPORTED_FIELDS: Record<string, string[]> = {
  'metadata.name': ['metadata', 'name'],
  'metadata.namespace': ['metadata', 'namespace'],
  'spec.nodeName': ['spec', 'nodeName'],
  'spec.schedulerName': ['spec', 'schedulerName'],
  'spec.unschedulable': ['spec', 'unschedulable'],
  'spec.signerName': ['spec', 'signerName'],
  'status.phase': ['status', 'phase'],
  'status.podIP': ['status', 'podIP'],
  'involvedObject.kind': ['involvedObject', 'kind'],
  'involvedObject.namespace': ['involvedObject', 'namespace'],
  'involvedObject.name': ['involvedObject', 'name'],
  'involvedObject.uid': ['involvedObject', 'uid'],
  'involvedObject.apiVersion': ['involvedObject', 'apiVersion'],
  'involvedObject.resourceVersion': ['involvedObject', 'resourceVersion'],
  'involvedObject.fieldPath': ['involvedObject', 'fieldPath'],
  reason: ['reason'],
  type: ['type'],
  source: ['source', 'component'],
};

export function parseFieldSelector(text: string): FieldRequirement[] {
  const out: FieldRequirement[] = [];
  for (const term of text
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '')) {
    const m = term.match(/^([^=!]+?)\s*(==|!=|=)\s*(.*)$/);
    if (m === null) throw badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    const field = m[1] ?? '';
    if (SUPPORTED_FIELDS[field] === undefined) throw badRequest(`field label not supported: ${field}`);
    out.push({ field, equal: m[2] !== '!=', value: m[3] ?? '' });
  }
  return out;
}

function fieldValue(obj: KubeObject, field: string): string {
  let cur: unknown = obj;
  for (const seg of SUPPORTED_FIELDS[field] ?? []) cur = isObject(cur) ? cur[seg] : undefined;
  if (cur === undefined || cur === null) return field === 'spec.unschedulable' ? 'false' : '';
  return String(cur);
}

/**
 * The index a watch with these field requirements can be filed under: its first equality
 * (`spec.nodeName=node-7`), as name, value and how an object's value is read. Undefined when
 * it has none.
 */
export function fieldIndex(
  reqs: FieldRequirement[],
): { name: string; value: string; of: (obj: KubeObject) => string } | undefined {
  const eq = reqs.find((r) => r.equal);
  if (eq === undefined) return undefined;
  const { field, value } = eq;
  return { name: `field:${field}`, value, of: (obj) => fieldValue(obj, field) };
}

export function matchesFields(reqs: FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === r.equal);
}
