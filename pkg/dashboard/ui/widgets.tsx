// Small pieces every page uses: a section that states why it is empty, a progress bar, a phase badge.

import type { ComponentChildren } from 'preact';
import type { ListView } from './api.js';

/** A list's section: its rows when ready, else what stops them (loading, not allowed, an error). */
export function Section<T>(props: {
  title: string;
  view: ListView<T>;
  children: ComponentChildren;
  testId?: string;
}): preact.JSX.Element {
  const { title, view } = props;
  return (
    <section class="section" data-testid={props.testId}>
      <h2>{title}</h2>
      {view.state === 'forbidden' ? (
        <p class="not-allowed" data-testid="not-allowed">
          Not allowed: {view.message}
          {/at the cluster scope/.test(view.message) && ' (choose a namespace you may read, above)'}
        </p>
      ) : view.state === 'loading' ? (
        <p class="muted">Loading…</p>
      ) : (
        <>
          {view.state === 'error' && <p class="error">Reconnecting: {view.message}</p>}
          {view.items.length === 0 ? <p class="muted">None.</p> : props.children}
        </>
      )}
    </section>
  );
}

/** A usage bar (fuller is worse: amber past 70 %, red past 90 %) or a progress bar (full is done). */
export function Bar(props: { used: number; total: number; label: string; progress?: boolean }): preact.JSX.Element {
  const share = props.total > 0 ? Math.min(1, props.used / props.total) : 0;
  const level =
    props.progress === true ? (share >= 1 ? 'done' : 'going') : share > 0.9 ? 'high' : share > 0.7 ? 'mid' : 'low';
  return (
    <div class="bar" title={props.label}>
      <div class={`fill ${level}`} style={{ width: `${Math.round(share * 100)}%` }} />
      <span>{props.label}</span>
    </div>
  );
}

export function Phase(props: { phase: string }): preact.JSX.Element {
  return <span class={`phase phase-${props.phase.replace(/[^A-Za-z]/g, '')}`}>{props.phase}</span>;
}
