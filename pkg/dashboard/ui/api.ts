// The dashboard's only door to the cluster: the Kubernetes API of the origin it was loaded
// from, with the signed-in identity's credentials (a bearer token kept in sessionStorage, or
// the browser's client certificate when no token is set). Lists are kept live by watches
// (chunked HTTP, read as a stream): re-listed on 410 Gone, reconnected with back-off.

import type { KubeObject } from '../../api/meta.js';

const TOKEN_KEY = 'coxswain.token';

export function savedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function saveToken(token: string | undefined): void {
  if (token === undefined) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** A refused call: the HTTP code and the Status message the apiserver gave. */
export class ApiFailure extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const token = savedToken();
  return { Accept: 'application/json', ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...extra };
}

async function failure(res: Response): Promise<ApiFailure> {
  const text = await res.text().catch(() => '');
  let message = text.slice(0, 500) || res.statusText;
  try {
    const status: unknown = JSON.parse(text);
    if (typeof status === 'object' && status !== null && 'message' in status && typeof status.message === 'string')
      message = status.message;
  } catch {
    // not a Status: the text is the message
  }
  return new ApiFailure(res.status, message);
}

/** Waits before the second and third try of a call the network failed (not the apiserver). */
const NETWORK_RETRY_MS = [300, 1000];

/**
 * One API call. A call the network failed (the browser saw its interfaces change, the
 * apiserver restarted) is tried twice more: every call the dashboard makes may be repeated
 * (reads, a SelfSubjectReview, and PATCHes that set values rather than add to them).
 */
export async function request(
  path: string,
  init: { method?: string; body?: string; contentType?: string } = {},
): Promise<unknown> {
  const send = (): Promise<Response> =>
    fetch(path, {
      method: init.method ?? 'GET',
      headers: headers(init.contentType === undefined ? {} : { 'Content-Type': init.contentType }),
      ...(init.body === undefined ? {} : { body: init.body }),
    });
  let res: Response | undefined;
  for (const waitMs of [...NETWORK_RETRY_MS, undefined]) {
    try {
      res = await send();
      break;
    } catch (err) {
      // fetch rejects only when no answer came; an HTTP error is an answer.
      if (waitMs === undefined) throw err;
      await new Promise((r) => setTimeout(r, waitMs));
    }
  }
  if (res === undefined) throw new Error(`no answer from ${path}`);
  if (!res.ok) throw await failure(res);
  return res.json();
}

const PATCH_TYPES = {
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  json: 'application/json-patch+json',
} as const;

export const patch = (path: string, body: unknown, type: keyof typeof PATCH_TYPES): Promise<unknown> =>
  request(path, { method: 'PATCH', body: JSON.stringify(body), contentType: PATCH_TYPES[type] });

export interface Who {
  username: string;
  groups: string[];
}

/** Who the credentials say we are (SelfSubjectReview); anonymous means not signed in. */
export async function whoAmI(): Promise<Who> {
  const review = await request('/apis/authentication.k8s.io/v1/selfsubjectreviews', {
    method: 'POST',
    contentType: 'application/json',
    body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' }),
  });
  const info = isRecord(review) && isRecord(review['status']) ? review['status']['userInfo'] : undefined;
  if (!isRecord(info) || typeof info['username'] !== 'string') throw new ApiFailure(500, 'no user in the review');
  const groups = Array.isArray(info['groups']) ? info['groups'].filter((g) => typeof g === 'string') : [];
  return { username: info['username'], groups };
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isKubeObject(v: unknown): v is KubeObject {
  return isRecord(v) && isRecord(v['metadata']);
}

export const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

/** Reads a streamed body line by line (bounded line length: a hostile stream cannot grow it). */
async function readLines(body: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  let buffered = '';
  await readText(body, (text) => {
    buffered += text;
    let nl = buffered.indexOf('\n');
    while (nl >= 0) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      nl = buffered.indexOf('\n');
    }
    if (buffered.length > 16 * 1024 * 1024) throw new Error('a watch event larger than 16 MiB');
  });
}

async function readText(body: ReadableStream<Uint8Array>, onText: (text: string) => void): Promise<void> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onText(decoder.decode(value, { stream: true }));
  }
}

export type ListState = 'loading' | 'ready' | 'forbidden' | 'error';

export interface ListView<T> {
  items: T[];
  state: ListState;
  message: string;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Keeps `path`'s list current: list, then watch from its resourceVersion; a 410 (or an ERROR
 * event) re-lists; a dropped stream reconnects from the last version seen, after a back-off that
 * doubles up to 30 s. A 403 stops (the identity may not list it): the page says so, once.
 */
export function watchList<T extends KubeObject>(
  path: string,
  onChange: (view: ListView<T>) => void,
  signal: AbortSignal,
): void {
  const items = new Map<string, T>();
  let version = '';
  let backoff = 1000;
  const publish = (state: ListState, message = ''): void => onChange({ items: [...items.values()], state, message });
  const sep = path.includes('?') ? '&' : '?';

  const list = async (): Promise<void> => {
    const body = await request(path);
    items.clear();
    const got = isRecord(body) && Array.isArray(body['items']) ? body['items'] : [];
    // The server's word for what the path lists (T is what the caller asked this path for).
    for (const o of got) if (isKubeObject(o)) items.set(keyOf(o), o as T);
    const meta = isRecord(body) && isRecord(body['metadata']) ? body['metadata'] : {};
    version = typeof meta['resourceVersion'] === 'string' ? meta['resourceVersion'] : '';
    publish('ready');
  };

  const watch = async (): Promise<'relist' | 'reconnect'> => {
    const url = `${path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${encodeURIComponent(version)}`;
    const res = await fetch(url, { headers: headers(), signal });
    if (res.status === 410) return 'relist';
    if (!res.ok || res.body === null) throw await failure(res);
    let outcome: 'relist' | 'reconnect' = 'reconnect';
    let pending = false;
    await readLines(res.body, (line) => {
      if (line.trim() === '') return;
      const event: unknown = JSON.parse(line);
      if (!isRecord(event) || !isKubeObject(event['object'])) return;
      const object = event['object'];
      const type = event['type'];
      if (type === 'ERROR') {
        outcome = 'relist';
        return;
      }
      if (typeof object.metadata.resourceVersion === 'string') version = object.metadata.resourceVersion;
      if (type === 'ADDED' || type === 'MODIFIED') items.set(keyOf(object), object as T);
      else if (type === 'DELETED') items.delete(keyOf(object));
      else return;
      backoff = 1000;
      // Bursts (a relist, a rollout) repaint once per frame, not once per event.
      if (!pending) {
        pending = true;
        requestAnimationFrame(() => {
          pending = false;
          publish('ready');
        });
      }
    });
    return outcome;
  };

  const run = async (): Promise<void> => {
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) await list();
        needList = (await watch()) === 'relist';
        // A watch that ends at once, again and again, must not become a busy loop.
        await sleep(200, signal);
      } catch (err) {
        if (signal.aborted) return;
        if (err instanceof ApiFailure && (err.code === 403 || err.code === 401)) {
          publish('forbidden', err.message);
          return;
        }
        if (err instanceof ApiFailure && err.code === 410) needList = true;
        publish(items.size > 0 ? 'ready' : 'error', err instanceof Error ? err.message : String(err));
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  };
  void run();
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** Follows a text stream (a container's log), handing each chunk over; ends with the stream or the signal. */
export async function followText(path: string, onText: (text: string) => void, signal: AbortSignal): Promise<void> {
  const res = await fetch(path, { headers: headers({ Accept: '*/*' }), signal });
  if (!res.ok || res.body === null) throw await failure(res);
  await readText(res.body, onText);
}

/** The websocket URL and subprotocols of an exec: the token rides in Kubernetes' bearer subprotocol. */
export function execSocket(path: string): { url: string; protocols: string[] } {
  const token = savedToken();
  const protocols = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
  if (token !== undefined) {
    const bytes = new TextEncoder().encode(token);
    const encoded = btoa(String.fromCharCode(...bytes))
      .replace(/\+/g, '-')
      .replace(/\//g, '_')
      .replace(/=+$/, '');
    protocols.push(`base64url.bearer.authorization.k8s.io.${encoded}`);
  }
  return { url: `wss://${location.host}${path}`, protocols };
}
