// One pod: its containers and their states, its events, a container's log (followed), and a
// terminal in it (exec over the apiserver's websocket, Kubernetes' channel protocol).

import { useEffect, useRef, useState } from 'preact/hooks';
import { Terminal } from '@xterm/xterm';
import { FitAddon } from '@xterm/addon-fit';
import type { Event, Pod } from '../../api/types/index.js';
import { LogResume, withoutTimestamp } from '../../api/log-resume.js';
import { ApiFailure, execSocket, followText } from './api.js';
import { age, podStatus } from './format.js';
import { useList } from './hooks.js';
import { Phase, Section } from './widgets.js';

/** The log text kept on the page; older text is dropped (a chatty container cannot fill the tab). */
const MAX_LOG_CHARS = 256 * 1024;

function podPath(ns: string, name: string): string {
  return `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`;
}

/** Longest pause between two attempts to (re)open a followed log. */
const LOG_RETRY_MAX_MS = 5000;

function Logs(props: { ns: string; pod: string; container: string }): preact.JSX.Element {
  const [text, setText] = useState('');
  const [note, setNote] = useState('');
  const pre = useRef<HTMLPreElement>(null);
  useEffect(() => {
    setText('');
    setNote('following…');
    const stop = new AbortController();
    // Read with timestamps, so a broken stream (the browser's network changed, the apiserver
    // restarted, the container has not started yet) is opened again where it stopped.
    const resume = new LogResume();
    const follow = async (): Promise<void> => {
      for (let delay = 1000; !stop.signal.aborted; delay = Math.min(delay * 2, LOG_RETRY_MAX_MS)) {
        const since = resume.sinceTime();
        resume.restart();
        const q = new URLSearchParams({ container: props.container, follow: 'true', timestamps: 'true' });
        if (since === undefined) q.set('tailLines', '1000');
        else q.set('sinceTime', since);
        let partial = '';
        try {
          await followText(
            `${podPath(props.ns, props.pod)}/log?${q.toString()}`,
            (chunk) => {
              const lines = (partial + chunk).split('\n');
              partial = lines.pop() ?? '';
              const fresh = lines.filter((line) => resume.accept(line)).map((line) => `${withoutTimestamp(line)}\n`);
              if (fresh.length > 0) setText((t) => (t + fresh.join('')).slice(-MAX_LOG_CHARS));
              setNote('following…');
            },
            stop.signal,
          );
          setNote('the log stream ended (the container stopped)');
          return;
        } catch (err) {
          if (stop.signal.aborted) return;
          // Not allowed stays not allowed; anything else may pass on a later try.
          if (err instanceof ApiFailure && (err.code === 401 || err.code === 403)) {
            setNote(err.message);
            return;
          }
          setNote(`${err instanceof ApiFailure ? err.message : String(err)} (trying again)`);
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    };
    void follow();
    return () => stop.abort();
  }, [props.ns, props.pod, props.container]);
  useEffect(() => {
    const el = pre.current;
    if (el !== null) el.scrollTop = el.scrollHeight;
  }, [text]);
  return (
    <div>
      <p class="muted">{note}</p>
      <pre class="logs" ref={pre} data-testid="logs">
        {text}
      </pre>
    </div>
  );
}

const CHANNEL = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;

function ExecTerminal(props: { ns: string; pod: string; container: string }): preact.JSX.Element {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const term = new Terminal({ convertEol: true, fontSize: 13, rows: 20 });
    const fit = new FitAddon();
    term.loadAddon(fit);
    term.open(el);
    fit.fit();
    const q = new URLSearchParams({ container: props.container, stdin: 'true', stdout: 'true', tty: 'true' });
    q.append('command', 'sh');
    const { url, protocols } = execSocket(`${podPath(props.ns, props.pod)}/exec?${q.toString()}`);
    const ws = new WebSocket(url, protocols);
    ws.binaryType = 'arraybuffer';
    const encoder = new TextEncoder();
    const send = (channel: number, data: Uint8Array): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      const frame = new Uint8Array(data.length + 1);
      frame[0] = channel;
      frame.set(data, 1);
      ws.send(frame);
    };
    const resize = (): void =>
      send(CHANNEL.resize, encoder.encode(JSON.stringify({ Width: term.cols, Height: term.rows })));
    ws.onopen = () => {
      term.write(`\x1b[2m# ${props.container}: sh\x1b[0m\r\n`);
      resize();
      term.focus();
    };
    ws.onmessage = (msg: MessageEvent<unknown>) => {
      if (!(msg.data instanceof ArrayBuffer)) return;
      const bytes = new Uint8Array(msg.data);
      const channel = bytes[0];
      if (channel === CHANNEL.stdout || channel === CHANNEL.stderr) term.write(bytes.subarray(1));
      else if (channel === CHANNEL.error && bytes.length > 1) term.write('\r\n\x1b[2m[the shell exited]\x1b[0m\r\n');
    };
    ws.onclose = (e) => term.write(`\r\n\x1b[2m[disconnected${e.reason === '' ? '' : `: ${e.reason}`}]\x1b[0m\r\n`);
    const input = term.onData((d) => send(CHANNEL.stdin, encoder.encode(d)));
    const resized = term.onResize(() => resize());
    const onWindow = (): void => fit.fit();
    addEventListener('resize', onWindow);
    return () => {
      removeEventListener('resize', onWindow);
      input.dispose();
      resized.dispose();
      ws.close();
      term.dispose();
    };
  }, [props.ns, props.pod, props.container]);
  return <div class="terminal" ref={box} data-testid="terminal" />;
}

export function PodPage(props: { ns: string; name: string }): preact.JSX.Element {
  const { ns, name } = props;
  const selector = `fieldSelector=${encodeURIComponent(`metadata.name=${name}`)}`;
  const pods = useList<Pod>(`/api/v1/namespaces/${encodeURIComponent(ns)}/pods?${selector}`);
  const events = useList<Event>(
    `/api/v1/namespaces/${encodeURIComponent(ns)}/events?fieldSelector=${encodeURIComponent(`involvedObject.name=${name}`)}`,
  );
  const [container, setContainer] = useState('');
  const [tab, setTab] = useState<'logs' | 'exec'>('logs');
  const pod = pods.items[0];
  const containers = (pod?.spec?.containers ?? []).map((c) => c.name);
  const chosen = containers.includes(container) ? container : (containers[0] ?? '');
  return (
    <div data-testid="pod-page">
      <Section title={`Pod ${ns}/${name}`} view={pods}>
        {pod === undefined ? (
          <p class="muted">This pod does not exist (or no longer does).</p>
        ) : (
          <>
            <p>
              <Phase phase={podStatus(pod)} /> on <strong>{pod.spec?.nodeName ?? 'no node yet'}</strong>, IP{' '}
              {pod.status?.podIP ?? '—'}, created {age(pod.metadata.creationTimestamp)} ago
            </p>
            <table>
              <thead>
                <tr>
                  <th>Container</th>
                  <th>Image</th>
                  <th>State</th>
                  <th>Ready</th>
                  <th>Restarts</th>
                </tr>
              </thead>
              <tbody>
                {(pod.spec?.containers ?? []).map((c) => {
                  const st = (pod.status?.containerStatuses ?? []).find((s) => s.name === c.name);
                  const state = st?.state?.running
                    ? 'Running'
                    : (st?.state?.waiting?.reason ?? st?.state?.terminated?.reason ?? 'Waiting');
                  return (
                    <tr key={c.name}>
                      <td>{c.name}</td>
                      <td>{c.image}</td>
                      <td>
                        <Phase phase={state} />
                      </td>
                      <td>{st?.ready === true ? 'yes' : 'no'}</td>
                      <td>{st?.restartCount ?? 0}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
            <div class="tabs">
              <select value={chosen} onChange={(e) => setContainer(e.currentTarget.value)} aria-label="container">
                {containers.map((c) => (
                  <option value={c}>{c}</option>
                ))}
              </select>
              <button class={tab === 'logs' ? 'on' : ''} onClick={() => setTab('logs')}>
                Logs
              </button>
              <button class={tab === 'exec' ? 'on' : ''} onClick={() => setTab('exec')}>
                Terminal
              </button>
            </div>
            {chosen !== '' && tab === 'logs' && <Logs ns={ns} pod={name} container={chosen} />}
            {chosen !== '' && tab === 'exec' && <ExecTerminal ns={ns} pod={name} container={chosen} />}
          </>
        )}
      </Section>
      <Section title="Events" view={events}>
        <ul class="events">
          {events.items.map((e) => (
            <li class={e.type === 'Warning' ? 'warning' : ''}>
              {e.reason ?? ''}: {e.message ?? ''}
            </li>
          ))}
        </ul>
      </Section>
    </div>
  );
}
