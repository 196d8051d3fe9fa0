import { api, ApiError, operation, session, signIn, signOut, startCodecSession } from './api.js';
import { badge, flash, h, replace, when } from './dom.js';
import { formView } from './forms.js';
import { workflowView } from './workflow.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const isAdmin = () => session.me?.role === 'admin';
let cleanup = () => {};

/**
 * The filter choices are the API's own: the enums of `GET /api/v1/workflows` in its OpenAPI document, which come
 * from the workflow-type registry (common/workflow-types.ts), so a new type shows up here without an edit.
 */
async function filterChoices() {
  const parameters = (await operation('get', '/api/v1/workflows'))?.parameters ?? [];
  const values = (name) => parameters.find((p) => p.name === name)?.schema?.enum ?? [];
  return { types: values('type'), statuses: values('status') };
}

function page(title, ...content) {
  document.title = `${title} · NPanel`;
  replace(main, h('h1', {}, title), content);
  main.focus();
}

function renderNav() {
  if (!session.me) return replace(nav);
  const link = (href, text) => h('a', { href, 'aria-current': location.hash.startsWith(href) ? 'page' : undefined }, text);
  replace(
    nav,
    link('#/workflows', 'Workflows'),
    link('#/accounts', 'Accounts'),
    link('#/certificates', 'Certificates'),
    isAdmin() ? [link('#/new/account', 'New account'), link('#/new/migration', 'Migrate a site')] : null,
    link('#/new/renewal', 'Renew certificate'),
    h('a', { href: '/docs' }, 'API'),
    h('span', { class: 'who' }, isAdmin() ? 'admin' : `customer ${session.me.account}`),
    h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: () => {
          signOut();
          location.hash = '#/';
          route();
        },
      },
      'Sign out',
    ),
  );
}

function signInView(message) {
  const form = h(
    'form',
    { class: 'signin' },
    h('label', { for: 'token' }, 'API token'),
    h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'off', 'aria-describedby': 'signin-error' }),
    h('button', { type: 'submit' }, 'Sign in'),
    h('p', { id: 'signin-error', class: 'field-error', role: 'alert' }, message || ''),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    signIn(form.elements.token.value.trim());
    try {
      session.me = await api('GET', '/api/v1/me');
      if (session.me.role === 'admin') await startCodecSession();
      route();
    } catch (err) {
      signOut();
      form.querySelector('#signin-error').textContent = err.status === 429 ? err.message : 'That token was refused.';
    }
  });
  page('Sign in', form);
  form.elements.token.focus();
}

function table(columns, rows, empty) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map(([name]) => h('th', { scope: 'col' }, name)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.map((row) =>
        h(
          'tr',
          {},
          columns.map(([, cell]) => h('td', {}, cell(row))),
        ),
      ),
    ),
  );
}

const wfLink = (id) => (id ? h('a', { href: `#/workflow/${encodeURIComponent(id)}` }, id) : '');

async function workflowsView(query) {
  const { types, statuses } = await filterChoices();
  const select = (name, options) =>
    h(
      'select',
      { id: `q-${name}`, name },
      h('option', { value: '' }, 'any'),
      options.map((o) => h('option', { value: o, selected: query.get(name) === o }, o)),
    );
  const input = (name, placeholder) => h('input', { id: `q-${name}`, name, value: query.get(name) || '', placeholder });
  const field = (name, text, control) => h('div', { class: 'field' }, h('label', { for: `q-${name}` }, text), control);
  const filters = h(
    'form',
    { class: 'filters', role: 'search' },
    field('type', 'Type', select('type', types)),
    field('status', 'Status', select('status', statuses)),
    field('account', 'Account', input('account', 'acme')),
    field('domain', 'Domain', input('domain', 'example.com')),
    field('id', 'Workflow ID', input('id', 'provision-acme-')),
    h('button', { type: 'submit' }, 'Filter'),
  );
  filters.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = new URLSearchParams();
    for (const el of filters.elements) if (el.name && el.value.trim()) q.set(el.name, el.value.trim());
    location.hash = `#/workflows?${q}`;
  });
  const results = h('div', { 'aria-live': 'polite' }, h('p', {}, 'Loading…'));
  page('Workflows', filters, results);
  const q = new URLSearchParams([...query].filter(([, v]) => v));
  try {
    const { workflows } = await api('GET', `/api/v1/workflows?${q}`);
    replace(
      results,
      table(
        [
          ['Workflow ID', (w) => wfLink(w.workflowId)],
          ['Type', (w) => w.type],
          ['Status', (w) => badge(w.status)],
          ['Account', (w) => w.account || ''],
          ['Domain', (w) => w.domain || ''],
          ['Started', (w) => when(w.startedAt)],
          ['Closed', (w) => when(w.closedAt)],
        ],
        workflows,
        'No workflows match.',
      ),
    );
  } catch (err) {
    replace(results, h('p', { class: 'error' }, err.message));
  }
}

/** Lists are paged by the API (50 a page): `?cursor=` of the page shown, a link to the next one when there is one. */
const pagePath = (path, query) => (query.get('cursor') ? `${path}?cursor=${encodeURIComponent(query.get('cursor'))}` : path);
const nextLink = (route, next) => (next ? h('p', {}, h('a', { href: `${route}?cursor=${encodeURIComponent(next)}` }, 'Next page')) : '');

async function accountsView(query) {
  page('Accounts', h('p', {}, 'Loading…'));
  const { accounts, next } = await api('GET', pagePath('/api/v1/accounts', query));
  page(
    'Accounts',
    nextLink('#/accounts', next),
    table(
      [
        ['Account', (a) => a.username],
        ['Domain', (a) => a.domain],
        ['Node', (a) => a.node],
        ['Status', (a) => badge(a.status)],
        ['Created', (a) => when(a.createdAt)],
        ['Last workflow', (a) => wfLink(a.workflowId)],
      ],
      accounts,
      'No accounts yet.',
    ),
    nextLink('#/accounts', next),
  );
}

async function certificatesView(query) {
  page('Certificates', h('p', {}, 'Loading…'));
  let data;
  try {
    data = await api('GET', pagePath('/api/v1/certificates', query));
  } catch (err) {
    if (err.status === 404) return page('Certificates', h('p', {}, 'Certificates are not available on this server.'));
    throw err;
  }
  const list = Array.isArray(data) ? data : Object.values(data || {}).find(Array.isArray) || [];
  const keys = [...new Set(list.flatMap((c) => Object.keys(c)))].filter((k) => typeof list[0]?.[k] !== 'object' || list[0]?.[k] === null);
  page(
    'Certificates',
    table(
      [
        ...keys.map((k) => [
          k.replace(/([a-z])([A-Z])/g, '$1 $2'),
          (c) => (/workflowId$/.test(k) ? wfLink(c[k]) : /At$/.test(k) ? when(c[k]) : String(c[k] ?? '')),
        ]),
        ['', (c) => (c.domain ? h('a', { href: `#/new/renewal?domain=${encodeURIComponent(c.domain)}` }, `Renew ${c.domain}`) : '')],
      ],
      list,
      'No certificates yet.',
    ),
    nextLink('#/certificates', data?.next),
  );
}

const FORMS = {
  account: { title: 'Provision an account', method: 'post', path: '/api/v1/accounts', submit: 'Provision' },
  migration: { title: 'Migrate a site', method: 'post', path: '/api/v1/migrations', submit: 'Start migration' },
  renewal: { title: 'Renew a certificate', method: 'post', path: '/api/v1/certificates/{domain}/renew', submit: 'Renew' },
};

async function route() {
  cleanup();
  cleanup = () => {};
  flash('');
  if (!session.token) return (renderNav(), signInView());
  try {
    session.me ??= await api('GET', '/api/v1/me');
  } catch (err) {
    signOut();
    renderNav();
    return signInView(err instanceof ApiError && err.status === 429 ? err.message : 'Your session ended: sign in again.');
  }
  renderNav();
  const [path, qs] = (location.hash.slice(1) || '/workflows').split('?');
  const query = new URLSearchParams(qs || '');
  const parts = path.split('/').filter(Boolean);
  try {
    if (parts[0] === 'workflow' && parts[1]) cleanup = await workflowView(page, decodeURIComponent(parts[1]), isAdmin());
    else if (parts[0] === 'accounts') await accountsView(query);
    else if (parts[0] === 'certificates') await certificatesView(query);
    else if (parts[0] === 'new' && FORMS[parts[1]]) await formView(page, FORMS[parts[1]], query);
    else await workflowsView(query);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut();
      return route();
    }
    page('Something went wrong', h('p', { class: 'error', role: 'alert' }, err.message));
  }
}

window.addEventListener('hashchange', route);
route();
