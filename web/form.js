import { h, replace } from './dom.js';

/**
 * Forms built from the API's request schemas (OpenAPI, generated from the zod contracts): one definition of
 * every field, and the API's field errors (`body.mailboxes.0.local`) land next to the matching input.
 * No client-side validation on purpose: the API's messages are the ones shown.
 */

const ACRONYMS = { ftp: 'FTP', tls: 'TLS', id: 'ID', ttl: 'TTL', ssh: 'SSH', dns: 'DNS', ip: 'IP' };
const label = (name) =>
  name
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .split(' ')
    .map((w, i) => ACRONYMS[w.toLowerCase()] || (i ? w.toLowerCase() : w[0].toUpperCase() + w.slice(1)))
    .join(' ');
const fieldId = (path) => `f-${path.replace(/[^A-Za-z0-9_-]/g, '-')}`;
const isSecret = (name) => /password|secret|passphrase/i.test(name);
const isMultiline = (name) => /privatekey|pem|certificate/i.test(name);

function scalar(path, name, schema, required) {
  const id = fieldId(path);
  const describedBy = `${id}-err`;
  const common = { id, name: path, 'aria-describedby': describedBy, 'aria-required': required ? 'true' : undefined };
  let input;
  if (schema.type === 'boolean') {
    input = h('input', { ...common, type: 'checkbox', checked: schema.default === true });
  } else if (Array.isArray(schema.enum)) {
    input = h(
      'select',
      common,
      required ? null : h('option', { value: '' }, '—'),
      schema.enum.map((v) => h('option', { value: v }, v)),
    );
  } else if (schema.type === 'array') {
    input = h('input', { ...common, type: 'text', placeholder: 'comma-separated', 'data-list': 'true' });
  } else if (schema.type === 'integer' || schema.type === 'number') {
    input = h('input', { ...common, type: 'number', value: schema.default ?? '' });
  } else if (isMultiline(name)) {
    input = h('textarea', { ...common, rows: 4 });
  } else {
    input = h('input', {
      ...common,
      type: isSecret(name) ? 'password' : 'text',
      autocomplete: isSecret(name) ? 'new-password' : 'off',
      value: schema.default ?? '',
    });
  }
  return h(
    'div',
    { class: 'field', 'data-field': path },
    h('label', { for: id }, label(name), required ? h('span', { class: 'req', 'aria-hidden': 'true' }, ' *') : null),
    input,
    schema.description ? h('small', {}, schema.description) : null,
    h('p', { class: 'field-error', id: describedBy }),
  );
}

/**
 * One object from the published shapes the form meets: `allOf` parts merged, and `anyOf`/`oneOf` of objects
 * (a source with a private key or with a password) shown as one object with every variant's fields, required
 * only where every variant requires it. The API still picks and checks the variant.
 */
function flatten(schema) {
  const parts = schema.allOf || schema.anyOf || schema.oneOf;
  if (schema.type || !Array.isArray(parts) || !parts.every((p) => flatten(p).type === 'object')) return schema;
  const objects = parts.map(flatten);
  const properties = Object.assign({}, ...objects.map((o) => o.properties || {}));
  const requiredSets = objects.map((o) => new Set(o.required || []));
  const required = schema.allOf
    ? [...new Set(requiredSets.flatMap((r) => [...r]))]
    : Object.keys(properties).filter((k) => requiredSets.every((r) => r.has(k)));
  return { type: 'object', properties, required };
}

function objectFields(prefix, schema) {
  const required = new Set(schema.required || []);
  return Object.entries(schema.properties || {}).map(([name, sub]) =>
    node(prefix ? `${prefix}.${name}` : name, name, sub, required.has(name)),
  );
}

function node(path, name, shape, required) {
  const schema = flatten(shape);
  if (schema.type === 'object') {
    return h(
      'fieldset',
      { 'data-field': path },
      h('legend', {}, label(name), required ? '' : ' (optional)'),
      objectFields(path, schema),
      h('p', { class: 'field-error' }),
    );
  }
  if (schema.type === 'array' && schema.items && schema.items.type === 'object') {
    // Rows keep a stable key in their input names (`mailboxes.#3.local`); read() maps them to array indexes
    // (`mailboxes.1.local`) in data-field, which is what the API's errors name.
    const rows = h('div', { class: 'rows', 'data-array': path });
    const item = label(name)
      .replace(/ies$/, 'y')
      .replace(/(x|sh|ch|ss)es$/, '$1')
      .replace(/s$/, '');
    let next = 0;
    const relabel = () =>
      [...rows.children].forEach((row, i) => {
        row.querySelector('legend').textContent = `${item} ${i + 1}`;
      });
    const add = () => {
      const key = `${path}.#${next++}`;
      const row = h(
        'fieldset',
        { class: 'row', 'data-key': key },
        h('legend', {}),
        objectFields(key, schema.items),
        h(
          'button',
          {
            type: 'button',
            class: 'secondary',
            onclick: () => {
              row.remove();
              relabel();
            },
          },
          `Remove ${item.toLowerCase()}`,
        ),
      );
      rows.append(row);
      relabel();
      row.querySelector('input, select, textarea')?.focus();
    };
    return h(
      'fieldset',
      { 'data-field': path },
      h('legend', {}, label(name)),
      rows,
      h('button', { type: 'button', class: 'secondary', onclick: add }, `Add ${item.toLowerCase()}`),
      h('p', { class: 'field-error' }),
    );
  }
  return scalar(path, name, schema, required);
}

function read(form, prefix, shape) {
  const schema = flatten(shape);
  if (schema.type === 'object') {
    const out = {};
    for (const [name, sub] of Object.entries(schema.properties || {})) {
      const v = read(form, prefix ? `${prefix}.${name}` : name, sub);
      if (v !== undefined) out[name] = v;
    }
    return Object.keys(out).length || !prefix ? out : undefined;
  }
  if (schema.type === 'array' && schema.items && schema.items.type === 'object') {
    const rows = [...(form.querySelector(`[data-array="${CSS.escape(prefix)}"]`)?.children || [])];
    const list = rows.map((row, i) => {
      const key = row.dataset.key;
      row.dataset.field = `${prefix}.${i}`;
      for (const box of row.querySelectorAll('[data-field]')) {
        box.dataset.path ??= box.dataset.field;
        box.dataset.field = box.dataset.path.replace(key, `${prefix}.${i}`);
      }
      return read(form, key, schema.items) || {};
    });
    return list.length ? list : undefined;
  }
  const el = form.elements.namedItem(prefix);
  if (!el) return undefined;
  if (schema.type === 'boolean') return el.checked;
  const raw = el.value.trim();
  if (raw === '') return undefined;
  if (el.dataset.list)
    return raw
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (schema.type === 'integer' || schema.type === 'number') return Number(raw);
  return raw;
}

/** Shows `details: [{ field, message }]` next to the fields; what matches no field goes to the form's summary. */
export function showErrors(form, err) {
  for (const el of form.querySelectorAll('.field-error')) el.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
  const summary = form.querySelector('.form-error');
  const unplaced = [];
  const details = Array.isArray(err?.body?.details) ? err.body.details : [];
  for (const d of details) {
    let path = String(d.field || '').replace(/^(body|params|querystring)\./, '');
    let box = null;
    while (path && !(box = form.querySelector(`[data-field="${CSS.escape(path)}"]`))) path = path.replace(/\.?[^.]*$/, '');
    const target = box && box.querySelector(':scope > .field-error');
    if (!target) {
      unplaced.push(`${d.field}: ${d.message}`);
      continue;
    }
    target.textContent = target.textContent ? `${target.textContent}; ${d.message}` : d.message;
    box.querySelector('input, select, textarea')?.setAttribute('aria-invalid', 'true');
  }
  replace(
    summary,
    err
      ? h('p', {}, details.length ? (unplaced.length ? unplaced.join('; ') : 'Please correct the fields marked below.') : err.message)
      : null,
  );
  (form.querySelector('[aria-invalid]') || summary).focus?.();
}

/**
 * A form for one API operation: path parameters first (`params.x`), then the body. onSubmit({ params, body })
 * returns a promise; an ApiError from it is shown on the form.
 */
export function operationForm(op, { submitLabel, onSubmit, values = {} }) {
  const params = (op.parameters || []).filter((p) => p.in === 'path');
  const bodySchema = op.requestBody?.content?.['application/json']?.schema;
  const form = h(
    'form',
    { novalidate: true },
    h('div', { class: 'form-error', role: 'alert', tabindex: '-1' }),
    params.map((p) => node(`params.${p.name}`, p.name, p.schema || { type: 'string' }, true)),
    bodySchema ? objectFields('', bodySchema) : null,
    h('button', { type: 'submit' }, submitLabel),
  );
  for (const [name, v] of Object.entries(values)) {
    const el = form.elements.namedItem(name);
    if (el) el.value = v;
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type=submit]');
    button.disabled = true;
    try {
      const p = Object.fromEntries(params.map((x) => [x.name, read(form, `params.${x.name}`, x.schema || { type: 'string' }) ?? '']));
      await onSubmit({ params: p, body: bodySchema ? read(form, '', bodySchema) : undefined });
    } catch (err) {
      showErrors(form, err);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
