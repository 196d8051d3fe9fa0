/** The API client of the UI: bearer token from the session, JSON in and out, SSE over fetch (to send the token). */
const KEY = 'npanel.token';

export const session = { token: sessionStorage.getItem(KEY), me: null };

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export function signIn(token) {
  session.token = token;
  sessionStorage.setItem(KEY, token);
}

/**
 * Temporal Web (another port, same host) calls the codec endpoint with the operator's token, which a browser
 * can only send as a cookie: the API sets it (HttpOnly, path /codec only) for administrators.
 */
export async function startCodecSession() {
  await api('POST', '/api/v1/session');
}

export function signOut() {
  session.token = null;
  session.me = null;
  sessionStorage.removeItem(KEY);
  // The API clears its HttpOnly cookie (page script cannot); a failure only leaves a cookie for /codec.
  fetch('/api/v1/session', { method: 'DELETE' }).catch(() => {});
}

const headers = (extra) => ({ authorization: `Bearer ${session.token}`, ...extra });

export async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = { message: text };
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

/**
 * Reads a Server-Sent Events stream and calls onEvent(name, data) per event. Reconnects after a dropped
 * connection until `done` arrived or the signal aborted (EventSource cannot send an Authorization header).
 */
export async function stream(path, onEvent, signal) {
  let finished = false;
  while (!finished && !signal.aborted) {
    try {
      const res = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal });
      if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          let event = 'message';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (!data) continue;
          if (event === 'done') finished = true;
          onEvent(event, JSON.parse(data));
        }
      }
    } catch (err) {
      if (signal.aborted || (err instanceof ApiError && err.status < 500)) throw err;
    }
    if (!finished && !signal.aborted) await new Promise((r) => setTimeout(r, 1000));
  }
}

let openapi = null;
/** The API's own OpenAPI document: the forms are built from the request schemas the API validates with. */
export async function operation(method, path) {
  openapi ??= await fetch('/docs/openapi.json').then((r) => r.json());
  return openapi.paths?.[path]?.[method] ?? null;
}
