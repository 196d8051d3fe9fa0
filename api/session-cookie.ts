/**
 * The console's session cookie, which exists for one reason: Temporal Web (another port of the same host)
 * calls the codec endpoint with the operator's credentials, and a browser can only send those as a cookie.
 * So the server sets it (never page script: HttpOnly), scoped to the codec path, SameSite=Strict, and the
 * API accepts it on the codec routes only; everywhere else a bearer header is required.
 */
export const COOKIE_NAME = 'npanel_token';
export const COOKIE_PATH = '/codec';

const TOKEN = '([A-Za-z0-9_-]{8,200})';

/** The `Bearer …` the cookie stands for, or undefined when there is no well-formed one. */
export function bearerFromCookie(cookie: string | undefined): string | undefined {
  const match = cookie ? new RegExp(`(?:^|;\\s*)${COOKIE_NAME}=${TOKEN}(?:;|$)`).exec(cookie) : null;
  return match ? `Bearer ${match[1]}` : undefined;
}

/** Whether a request may authenticate with the cookie: only the codec endpoint's routes. */
export const cookieAllowedFor = (url: string) => url.startsWith(`${COOKIE_PATH}/`);

const attributes = (secure: boolean) => `Path=${COOKIE_PATH}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;

export const setCookieHeader = (token: string, secure: boolean) => `${COOKIE_NAME}=${token}; ${attributes(secure)}`;
export const clearCookieHeader = (secure: boolean) => `${COOKIE_NAME}=; Max-Age=0; ${attributes(secure)}`;
