import { api, ApiError, operation } from './api.js';
import { h } from './dom.js';
import { operationForm } from './form.js';

/** A form page for one API operation; on success it opens the started workflow's live page. */
export async function formView(page, spec, query) {
  const op = await operation(spec.method, spec.path);
  if (!op) return page(spec.title, h('p', {}, 'This is not available on this server yet.'));
  const values = Object.fromEntries([...query].map(([k, v]) => [`params.${k}`, v]));
  const form = operationForm(op, {
    submitLabel: spec.submit,
    values,
    onSubmit: async ({ params, body }) => {
      const missing = Object.entries(params)
        .filter(([, v]) => !v)
        .map(([name]) => ({ field: `params.${name}`, message: 'is required' }));
      if (missing.length) throw new ApiError(400, { message: 'required fields are empty', details: missing });
      const url = spec.path.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(params[name] ?? ''));
      const res = await api(spec.method.toUpperCase(), url, body ?? {});
      location.hash = `#/workflow/${encodeURIComponent(res.workflowId)}`;
    },
  });
  page(spec.title, form);
}
