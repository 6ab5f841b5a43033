// The dashboard: a sign-in gate, then the pages, chosen by the location's hash. Nothing here
// holds cluster data of its own; every page is a live view of what the identity may list.

import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Namespace } from '../../api/types/index.js';
import { ApiFailure, saveToken, savedToken, whoAmI, type Who } from './api.js';
import { ApplyPage } from './apply-page.js';
import { EventsPage, HostMapPage, NamespacesPage, NodesPage } from './cluster-pages.js';
import { href, useList, useRoute, type Route } from './hooks.js';
import { PodPage } from './pod-page.js';
import { PodsPage, WorkloadsPage } from './workload-pages.js';

const PAGES: [string, string][] = [
  ['nodes', 'Nodes'],
  ['map', 'Host map'],
  ['namespaces', 'Namespaces'],
  ['workloads', 'Workloads'],
  ['pods', 'Pods'],
  ['events', 'Events'],
  ['apply', 'Apply'],
];

function SignIn(props: { error: string; onToken: (token: string) => void }): preact.JSX.Element {
  const [token, setToken] = useState('');
  return (
    <main class="signin" data-testid="signin">
      <h1>Coxswain</h1>
      <p>Sign in with a bearer token, e.g. a ServiceAccount's:</p>
      <pre>kubectl -n kube-system create token dashboard-admin</pre>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (token.trim() !== '') props.onToken(token.trim());
        }}
      >
        <textarea
          name="token"
          rows={5}
          placeholder="token"
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          autocomplete="off"
        />
        <button type="submit">Sign in</button>
      </form>
      {props.error !== '' && (
        <p class="error" data-testid="signin-error">
          {props.error}
        </p>
      )}
      <p class="muted">
        The token stays in this tab (sessionStorage). A browser with a client certificate of the cluster is signed in
        without one.
      </p>
    </main>
  );
}

function NamespacePicker(props: { route: Route }): preact.JSX.Element {
  const namespaces = useList<Namespace>('/api/v1/namespaces');
  const go = (ns: string): void => {
    location.hash = href(props.route.parts, ns.trim());
  };
  return (
    <label class="ns">
      Namespace{' '}
      <input
        list="namespaces"
        name="namespace"
        placeholder="all namespaces"
        value={props.route.namespace}
        onChange={(e) => go(e.currentTarget.value)}
      />
      <datalist id="namespaces">
        {namespaces.items.map((n) => (
          <option value={n.metadata.name ?? ''} />
        ))}
      </datalist>
    </label>
  );
}

function Page(props: { route: Route }): preact.JSX.Element {
  const [page = 'nodes', a = '', b = ''] = props.route.parts;
  const ns = props.route.namespace;
  switch (page) {
    case 'map':
      return <HostMapPage namespace={ns} />;
    case 'namespaces':
      return <NamespacesPage />;
    case 'workloads':
      return <WorkloadsPage namespace={ns} />;
    case 'pods':
      return <PodsPage namespace={ns} />;
    case 'pod':
      return <PodPage key={`${a}/${b}`} ns={a} name={b} />;
    case 'events':
      return <EventsPage namespace={ns} />;
    case 'apply':
      return <ApplyPage namespace={ns} />;
    default:
      return <NodesPage />;
  }
}

function App(): preact.JSX.Element {
  const route = useRoute();
  const [who, setWho] = useState<Who | undefined>();
  const [error, setError] = useState('');
  const [checking, setChecking] = useState(true);
  const retry = useRef<{ timer?: ReturnType<typeof setTimeout>; delayMs: number }>({ delayMs: 1000 });
  const check = (): void => {
    clearTimeout(retry.current.timer);
    setChecking(true);
    whoAmI()
      .then((w) => {
        if (w.username === 'system:anonymous') throw new ApiFailure(401, '');
        retry.current.delayMs = 1000;
        setWho(w);
        setError('');
      })
      .catch((err: unknown) => {
        const hadToken = savedToken() !== undefined;
        const refused = err instanceof ApiFailure && (err.code === 401 || err.code === 403);
        setWho(undefined);
        if (refused) {
          // Only a refusal forgets the token; without one, the sign-in form is the answer.
          saveToken(undefined);
          setError(hadToken ? 'That token was not accepted (401 Unauthorized).' : '');
          return;
        }
        // Unreachable (a network change, an apiserver restarting): the browser's client
        // certificate or the saved token may well be good, so ask again with back-off.
        const delayMs = retry.current.delayMs;
        retry.current.delayMs = Math.min(delayMs * 2, 5000);
        retry.current.timer = setTimeout(check, delayMs);
        setError(`Cannot reach the apiserver (${String(err)}); trying again in ${Math.round(delayMs / 1000)} s.`);
      })
      .finally(() => setChecking(false));
  };
  useEffect(() => {
    check();
    return () => clearTimeout(retry.current.timer);
  }, []);
  if (checking && who === undefined && error === '') return <p class="muted">Connecting…</p>;
  if (who === undefined)
    return (
      <SignIn
        error={error}
        onToken={(t) => {
          saveToken(t);
          check();
        }}
      />
    );
  const [current = 'nodes'] = route.parts;
  return (
    <div class="app">
      <header>
        <strong class="brand">Coxswain</strong>
        <nav>
          {PAGES.map(([id, title]) => (
            <a href={href([id], route.namespace)} class={current === id ? 'on' : ''}>
              {title}
            </a>
          ))}
        </nav>
        <NamespacePicker route={route} />
        <span class="who" data-testid="who" title={who.groups.join(', ')}>
          {who.username}
        </span>
        <button
          onClick={() => {
            saveToken(undefined);
            setWho(undefined);
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <Page route={route} />
      </main>
    </div>
  );
}

const root = document.getElementById('app');
if (root !== null) {
  root.textContent = '';
  render(<App />, root);
}
