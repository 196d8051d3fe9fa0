/** Tiny DOM builder: h('a', { href, onclick }, 'text', child). No innerHTML anywhere: text is always text. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value' || k === 'checked') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren(...children.flat(Infinity).filter((c) => c !== undefined && c !== null && c !== false));
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

/** "1.2 s", "3 min 4 s": how long a step took (or has been running). */
export function duration(fromIso, toIso) {
  if (!fromIso) return '';
  const ms = Math.max(0, (toIso ? Date.parse(toIso) : Date.now()) - Date.parse(fromIso));
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function badge(status) {
  return h('span', { class: `badge s-${status}` }, String(status).replace(/_/g, ' '));
}

export function flash(message, kind = 'info') {
  const el = document.getElementById('flash');
  replace(el, message ? h('p', { class: kind }, message) : null);
}
