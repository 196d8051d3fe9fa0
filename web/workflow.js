import { api, stream } from './api.js';
import { badge, duration, flash, h, replace, when } from './dom.js';

const CLOSED = ['completed', 'failed', 'cancelled', 'terminated', 'timed_out'];
const GATE_ACTIONS = [
  ['retry', 'Retry step'],
  ['skip', 'Skip step'],
  ['rollback', 'Roll back'],
  ['abort', 'Abort'],
];

function timeline(progress) {
  const steps = progress?.steps || [];
  if (!steps.length) return h('p', { class: 'empty' }, 'No step has reported yet.');
  return h(
    'ol',
    { class: 'timeline' },
    steps.map((s) =>
      h(
        'li',
        { class: `step s-${s.status}`, 'data-step': s.name },
        h('span', { class: 'name' }, s.name),
        badge(s.status),
        h('span', { class: 'dur' }, s.startedAt ? duration(s.startedAt, s.finishedAt) : ''),
        s.error ? h('p', { class: 'error' }, s.error) : null,
      ),
    ),
  );
}

/** Extra progress the workflow reports beside its steps (bytes and files moved, current phase). */
function extras(progress) {
  const entries = Object.entries(progress || {}).filter(
    ([k, v]) => !['steps', 'errors', 'current'].includes(k) && v !== null && typeof v !== 'object',
  );
  return entries.length
    ? h(
        'dl',
        { class: 'extras' },
        entries.map(([k, v]) => [h('dt', {}, k), h('dd', {}, /bytes/i.test(k) ? `${(Number(v) / 1048576).toFixed(1)} MiB` : String(v))]),
      )
    : null;
}

/**
 * The live page of one workflow: details, the step timeline fed by the SSE stream, and the operator actions the
 * status allows. Returns a cleanup function (closes the stream) for the router.
 */
export async function workflowView(page, id, admin) {
  const controller = new AbortController();
  const status = h('span', { id: 'wf-status' });
  const actions = h('div', { class: 'actions', 'aria-label': 'Operator actions', role: 'group' });
  const steps = h('section', { 'aria-labelledby': 'steps-h' });
  const outcome = h('div', { 'aria-live': 'polite' });
  const copy = h(
    'button',
    {
      type: 'button',
      class: 'secondary',
      onclick: async () => {
        try {
          await navigator.clipboard.writeText(id);
          flash('Correlation ID copied.');
        } catch {
          getSelection().selectAllChildren(document.getElementById('wf-id'));
          flash('Press Ctrl+C to copy the selected ID.');
        }
      },
    },
    'Copy',
  );
  const detail = await api('GET', `/api/v1/workflows/${encodeURIComponent(id)}`);
  let state = detail;
  let shownStatus = null;
  let shownOutcome = null;

  const act = async (label, method, url, body) => {
    try {
      const res = await api(method, url, body);
      flash(`${label}: accepted.`);
      if (res?.workflowId && res.workflowId !== id) location.hash = `#/workflow/${encodeURIComponent(res.workflowId)}`;
    } catch (err) {
      flash(`${label}: ${err.message}`, 'error');
    }
  };
  const renderActions = () => {
    if (!admin) return replace(actions);
    const base = `/api/v1/workflows/${encodeURIComponent(id)}`;
    const button = (label, fn) => h('button', { type: 'button', onclick: fn }, label);
    replace(
      actions,
      state.status === 'awaiting_operator'
        ? GATE_ACTIONS.map(([action, label]) =>
            button(label, () => act(label, 'POST', `/api/v1/migrations/${encodeURIComponent(id)}/resolve`, { action })),
          )
        : null,
      CLOSED.includes(state.status) ? null : button('Cancel workflow', () => act('Cancel', 'POST', `${base}/cancel`)),
      ['failed', 'cancelled', 'terminated', 'timed_out'].includes(state.status)
        ? button('Retry workflow', () => act('Retry', 'POST', `${base}/retry`))
        : null,
    );
  };
  const render = () => {
    replace(status, badge(state.status));
    if (shownStatus !== state.status) {
      shownStatus = state.status;
      renderActions();
    }
    replace(
      steps,
      h('h2', { id: 'steps-h' }, 'Steps'),
      extras(state.progress),
      timeline(state.progress),
      (state.progress?.errors || []).length
        ? h(
            'ul',
            { class: 'errors' },
            state.progress.errors.map((e) => h('li', {}, e)),
          )
        : null,
    );
    const key = JSON.stringify([state.error, state.status, state.result]);
    if (key === shownOutcome) return;
    shownOutcome = key;
    replace(
      outcome,
      state.error ? h('p', { class: 'error', role: 'alert' }, `Failed: ${state.error.message}`) : null,
      state.status === 'awaiting_operator' ? h('p', { class: 'gate', role: 'alert' }, 'Waiting for an operator: choose an action.') : null,
      state.closedAt && state.result != null
        ? h('details', {}, h('summary', {}, 'Result'), h('pre', {}, JSON.stringify(state.result, null, 2)))
        : null,
    );
  };

  page(
    `Workflow ${detail.type}`,
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Correlation ID'),
      h('dd', {}, h('code', { id: 'wf-id' }, id), ' ', copy),
      h('dt', {}, 'Status'),
      h('dd', {}, status),
      h('dt', {}, 'Account'),
      h('dd', {}, detail.account || '—'),
      h('dt', {}, 'Domain'),
      h('dd', {}, detail.domain || '—'),
      h('dt', {}, 'Started'),
      h('dd', {}, when(detail.startedAt)),
      h('dt', {}, 'Temporal'),
      h('dd', {}, h('a', { href: detail.temporalUi, target: '_blank', rel: 'noopener noreferrer' }, 'Open in Temporal Web')),
    ),
    actions,
    outcome,
    steps,
  );
  render();

  // Durations of running steps grow while nothing else changes.
  const tick = setInterval(() => {
    if (!state.closedAt) render();
  }, 1000);
  stream(
    `/api/v1/workflows/${encodeURIComponent(id)}/events`,
    (event, data) => {
      if (event === 'snapshot') state = { ...state, ...data };
      else if (event === 'progress') state = { ...state, progress: data };
      else if (event === 'status') state = { ...state, status: data.status };
      else if (event === 'done') state = { ...state, ...data };
      else return;
      render();
    },
    controller.signal,
  ).catch((err) => {
    if (!controller.signal.aborted) flash(`Live updates stopped: ${err.message}`, 'error');
  });
  return () => {
    clearInterval(tick);
    controller.abort();
  };
}
