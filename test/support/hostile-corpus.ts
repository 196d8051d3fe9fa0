import type { z } from 'zod';
import { provisionAccountBody } from '../../common/account-input';
import { migrateSiteBody, resolveBody } from '../../common/migration-input';
import { tokenCreateInput } from '../../common/token-input';
import { workflowListQuery } from '../../common/api-schemas';

/**
 * A corpus of malformed and hostile requests over every route of the OpenAPI document: injection strings,
 * path traversal, wrong types, unicode tricks, oversized bodies and header abuse. Each case is something the
 * API's contract rejects: field mutations are checked against the route's own zod schema and dropped when the
 * schema would accept them (a valid request is not hostile, and sending it would change state).
 */
export interface HostileCase {
  name: string;
  method: string;
  /** Sent as-is on the request line (no client-side normalisation of `..` or percent escapes). */
  path: string;
  headers: Record<string, string>;
  body?: string | Buffer;
  /** Send over a raw socket: the request itself is malformed in a way Node's client refuses to produce. */
  raw?: string;
}

interface OpenApiOperation {
  parameters?: { name: string; in: string }[];
  requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
}
export type OpenApi = { paths: Record<string, Record<string, OpenApiOperation>> };

/** Strings no name, ID or domain may be: each breaks out of some context a careless program would build. */
export const HOSTILE_STRINGS: string[] = [
  "' OR '1'='1",
  '1; DROP TABLE accounts; --',
  '"; DELETE FROM api_tokens; #',
  "x') UNION SELECT password_hash FROM mailboxes -- ",
  '$(touch /tmp/npanel-pwned)',
  '`id`',
  'a;reboot',
  'a|cat /etc/shadow',
  '../../../../etc/passwd',
  '..\\..\\windows\\win.ini',
  '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
  '/etc/passwd',
  'a\u0000b',
  'line\r\nX-Injected: 1',
  'server {\n listen 80; root /; }',
  '<script>alert(1)</script>',
  '{{7*7}}${7*7}',
  '${jndi:ldap://127.0.0.1/x}',
  "NpanelAccount = 'x' OR WorkflowType != ''",
  '*',
  'ａｄｍｉｎ/ｘ',
  'аdmin\u202egnp.exe',
  'zero\u200bwidth\u200d name',
  '😀💥.example',
  '\ud800lonely-surrogate',
  'x'.repeat(5000),
  '-rf --help',
  '.',
  '',
  ' ',
  // --- names (issue 11): hidden characters a normaliser would drop, and punycode that decodes to nothing.
  // Each was once accepted as a domain: "ex\nample.test" provisioned example.test.
  'ex\nample.test',
  'ex\tample.test',
  'example.test\n',
  'ex\u00adample.test',
  'ex\u200bample.test',
  'xn--a.test',
  'www.xn--a.test',
];

/** Values of the wrong type for any field. */
const WRONG_TYPES: unknown[] = [null, 0, -1, 1.5e308, true, [], ['a'], {}, { $ne: null }, 'x'.repeat(300)];

const BODY_SCHEMAS: Record<string, z.ZodType> = {
  'POST /api/v1/accounts': provisionAccountBody,
  'POST /api/v1/migrations': migrateSiteBody,
  'POST /api/v1/tokens': tokenCreateInput,
  'POST /api/v1/migrations/{id}/resolve': resolveBody,
};

/** A valid body per route: every case mutates one thing of it. */
function templates(source: {
  host: string;
  port: number;
  user: string;
  fingerprint: string;
  docroot: string;
}): Record<string, Record<string, unknown>> {
  return {
    'POST /api/v1/accounts': {
      username: 'hostile1',
      domain: 'hostile1.example',
      mailboxes: [{ local: 'info', password: 'Valid-pass-123!' }],
      ftp: { password: 'Valid-pass-123!' },
      database: { name: 'hostile1_db', password: 'Valid-pass-123!' },
    },
    'POST /api/v1/migrations': {
      domain: 'hostile2.example',
      account: 'hostile2',
      source: {
        host: source.host,
        port: source.port,
        user: source.user,
        password: 'not-the-password',
        hostKeyFingerprint: source.fingerprint,
        docroot: source.docroot,
        ip: '192.0.2.10',
      },
    },
    'POST /api/v1/tokens': { role: 'customer', account: 'hostile3', label: 'hostile' },
    'POST /api/v1/migrations/{id}/resolve': { action: 'retry' },
    'POST /codec/decode': { payloads: [] },
    'POST /codec/encode': { payloads: [] },
  };
}

/** Percent-encodes the UTF-8 bytes (encodeURIComponent throws on a lone surrogate; Buffer makes it U+FFFD). */
function pct(s: string): string {
  return [...Buffer.from(s, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

function fillPath(p: string, value: string): string {
  return p.replace(/\{[^}]+\}/g, value);
}

const VALID_ID = 'provision-nosuchaccount-01hzzzzzzzzzzzzzzzzzzzzzzz';

export function buildCorpus(doc: OpenApi, source: Parameters<typeof templates>[0]): HostileCase[] {
  const cases: HostileCase[] = [];
  const json = { 'content-type': 'application/json' };
  const tmpl = templates(source);
  for (const [route, ops] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(ops)) {
      const method = m.toUpperCase();
      if (method === 'OPTIONS' || method === 'HEAD') continue;
      const key = `${method} ${route}`;
      const hasParams = /\{/.test(route);
      const template = tmpl[key];
      const body = template ? JSON.stringify(template) : op.requestBody ? '{}' : undefined;
      const bodyHeaders = body !== undefined ? json : {};
      // Path parameters: hostile strings percent-encoded, and a few sent literally (traversal on the wire).
      if (hasParams) {
        // (An empty value would address another route, the collection: not a parameter case.)
        for (const s of HOSTILE_STRINGS.filter(Boolean))
          cases.push({
            name: `${key} param ${JSON.stringify(s.slice(0, 40))}`,
            method,
            path: fillPath(route, pct(s)),
            headers: bodyHeaders,
            body,
          });
        for (const lit of [
          '../../../../etc/passwd',
          '..%2f..%2f..%2fetc%2fpasswd',
          '%00',
          '%ff%fe',
          '%',
          '%%32%65',
          ';id',
          'a?b=1&c',
          '%E2%80%AE',
        ]) {
          cases.push({ name: `${key} literal ${lit}`, method, path: fillPath(route, lit), headers: bodyHeaders, body });
        }
      }
      // Query strings: every declared parameter gets wrong and hostile values; plus parameter pollution.
      for (const q of (op.parameters ?? []).filter((p) => p.in === 'query')) {
        for (const s of [...HOSTILE_STRINGS.slice(0, 22), '-5', '1e9', 'NaN', '0x10']) {
          // A filter the contract accepts is a search that finds nothing, not a hostile request.
          if (key === 'GET /api/v1/workflows' && workflowListQuery.safeParse({ [q.name]: s }).success) continue;
          cases.push({
            name: `${key} query ${q.name}=${JSON.stringify(s.slice(0, 30))}`,
            method,
            path: `${fillPath(route, VALID_ID)}?${q.name}=${pct(s)}`,
            headers: {},
          });
        }
        cases.push({
          name: `${key} query ${q.name} repeated`,
          method,
          path: `${fillPath(route, VALID_ID)}?${q.name}=a&${q.name}=b&${q.name}[$ne]=1`,
          headers: {},
        });
      }
      if (op.requestBody) cases.push(...bodyCases(key, method, fillPath(route, VALID_ID), template));
    }
  }
  cases.push(...headerCases());
  return cases;
}

function bodyCases(key: string, method: string, path: string, template: Record<string, unknown> | undefined): HostileCase[] {
  const json = { 'content-type': 'application/json' };
  const out: HostileCase[] = [];
  const add = (name: string, body: string | Buffer, headers: Record<string, string> = json) =>
    out.push({ name: `${key} ${name}`, method, path, headers, body });
  add('malformed JSON', '{"username": "a",');
  add('JSON with trailing garbage', '{}}}}');
  add('top-level array', '[1,2,3]');
  add('top-level string', '"hello"');
  add('top-level null', 'null');
  add('empty body', '');
  add('deeply nested', '['.repeat(5000) + ']'.repeat(5000));
  add('oversized (300 KiB)', JSON.stringify({ ...template, padding: 'x'.repeat(300 * 1024) }));
  // Bytes that are not UTF-8 as the value of the route's first field (an unknown key may be ignored by design).
  const first = Object.keys(template ?? { payloads: 0 })[0]!;
  add('invalid UTF-8', Buffer.concat([Buffer.from(`{"${first}":"`), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('"}')]));
  add(
    'prototype pollution',
    JSON.stringify({ ...template }).replace(/^\{/, '{"__proto__":{"isAdmin":true},"constructor":{"prototype":{"x":1}},'),
  );
  add('text/plain body', JSON.stringify(template ?? {}), { 'content-type': 'text/plain' });
  add('form body', 'username=a&domain=b', { 'content-type': 'application/x-www-form-urlencoded' });
  add('utf-16 body', Buffer.from(JSON.stringify(template ?? {}), 'utf16le'), { 'content-type': 'application/json; charset=utf-16' });
  if (key === 'POST /codec/decode') {
    // Payloads that claim to be ours but are not: forged, truncated, or under a key this API never had.
    const b64 = (v: string | Buffer) => Buffer.from(v).toString('base64');
    const forged = (meta: Record<string, string>, data: Buffer) =>
      JSON.stringify({ payloads: [{ metadata: Object.fromEntries(Object.entries(meta).map(([k, v]) => [k, b64(v)])), data: b64(data) }] });
    add('forged encrypted payload', forged({ encoding: 'binary/encrypted' }, Buffer.from('garbage')));
    add(
      'encrypted payload under an unknown key',
      forged({ encoding: 'binary/encrypted', 'encryption-key-id': 'nope' }, Buffer.alloc(64, 7)),
    );
    add('truncated ciphertext', forged({ encoding: 'binary/encrypted' }, Buffer.alloc(5)));
  }
  const schema = BODY_SCHEMAS[key];
  if (!template || !schema) return out;
  // One field at a time: wrong types and hostile strings, at the top level and one level down.
  const fields: string[][] = [];
  for (const [k, v] of Object.entries(template)) {
    fields.push([k]);
    if (v && typeof v === 'object' && !Array.isArray(v)) for (const k2 of Object.keys(v)) fields.push([k, k2]);
    if (Array.isArray(v) && v[0] && typeof v[0] === 'object') for (const k2 of Object.keys(v[0])) fields.push([k, '0', k2]);
  }
  for (const f of fields) {
    for (const value of [...WRONG_TYPES, ...HOSTILE_STRINGS]) {
      const mutated = structuredClone(template);
      let node: Record<string, unknown> = mutated;
      for (const part of f.slice(0, -1)) node = node[part] as Record<string, unknown>;
      node[f.at(-1)!] = value;
      if (schema.safeParse(mutated).success) continue; // the contract accepts it: not hostile
      add(`field ${f.join('.')}=${JSON.stringify(value)?.slice(0, 40)}`, JSON.stringify(mutated));
    }
  }
  return out;
}

/** Header abuse: bad credentials (few: the API rate-limits failed logins per IP), odd content types, raw HTTP. */
function headerCases(): HostileCase[] {
  const out: HostileCase[] = [];
  const get = (name: string, headers: Record<string, string>, path = '/api/v1/accounts') =>
    out.push({ name: `header ${name}`, method: 'GET', path, headers: { ...headers, 'x-no-token': '1' } });
  get('no credentials', {});
  get('basic auth', { authorization: 'Basic YWRtaW46YWRtaW4=' });
  get('bearer too long', { authorization: `Bearer ${'A'.repeat(5000)}` });
  get('bearer with unicode', { authorization: 'Bearer npa_\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9' });
  get('bearer empty', { authorization: 'Bearer ' });
  get('bearer SQL', { authorization: "Bearer ' OR 1=1 --" });
  get('unknown token (spoofed client IP)', { authorization: `Bearer npa_${'x'.repeat(43)}`, 'x-forwarded-for': '198.51.100.7' });
  get('cookie token garbage', { cookie: `npanel_token=${'%'.repeat(300)}` });
  get('header of 20 KiB', { 'x-padding': 'x'.repeat(20 * 1024) });
  get('weird host', { host: '../../etc/passwd' });
  out.push({
    name: 'header method override',
    method: 'POST',
    path: '/api/v1/accounts',
    headers: { 'x-http-method-override': 'DELETE', 'content-type': 'application/json' },
    body: '{}',
  });
  out.push({ name: 'unknown method', method: 'PATCH', path: '/api/v1/accounts', headers: {} });
  out.push({ name: 'TRACE', method: 'TRACE', path: '/api/v1/accounts', headers: {} });
  out.push({ name: 'no such route', method: 'GET', path: '/api/v1/../../../../etc/passwd', headers: {} });
  out.push({ name: 'no such route encoded', method: 'GET', path: '/api/v1/%2e%2e/%2e%2e/etc/passwd', headers: {} });
  const raw = (name: string, request: string) => out.push({ name: `raw ${name}`, method: 'RAW', path: '', headers: {}, raw: request });
  raw('CRLF in a header value', 'GET /api/v1/accounts HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n');
  raw(
    'content-length and chunked (smuggling)',
    'POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/v1/tokens HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  raw(
    'content-length larger than body',
    'POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{}',
  );
  raw('two content-lengths', 'POST /api/v1/accounts HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}');
  raw('bad request line', 'GET /api/v1/accounts HTTP/9.9 extra\r\nHost: x\r\n\r\n');
  raw('space in path', 'GET /api/v1/accounts/a b HTTP/1.1\r\nHost: x\r\n\r\n');
  raw('header without colon', 'GET /api/v1/accounts HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n');
  raw('NUL in path', 'GET /api/v1/accounts/a\u0000b HTTP/1.1\r\nHost: x\r\n\r\n');
  // --- issue 11, part "api" (findings 3, 7): cross-site requests riding the console cookie. Refused (403) before
  // the cookie's token is looked at; outside /codec the cookie authenticates nothing (401).
  const cookie = `npanel_token=npa_${'c'.repeat(43)}`;
  for (const [method, path] of [
    ['POST', '/api/v1/accounts/nosuch/suspend'],
    ['POST', '/api/v1/accounts/nosuch/unsuspend'],
    ['DELETE', '/api/v1/accounts/nosuch'],
    ['POST', '/api/v1/tokens'],
    ['POST', '/codec/decode'],
  ]) {
    for (const origin of ['http://evil.test', 'null', undefined]) {
      out.push({
        name: `csrf ${method} ${path} cookie only, Origin ${origin ?? 'missing'}`,
        method,
        path,
        headers: { cookie, ...(origin ? { origin } : {}), 'x-no-token': '1' },
      });
    }
  }
  get('cookie only on an admin list', { cookie }, '/api/v1/tokens');
  // The session routes (the codec cookie): a forged cross-site call cannot set or clear it, nor can a bare one.
  for (const method of ['POST', 'DELETE']) {
    out.push({
      name: `${method} /api/v1/session cross-site with the cookie`,
      method,
      path: '/api/v1/session',
      headers: { cookie, origin: 'http://evil.test', 'x-no-token': '1' },
    });
  }
  out.push({ name: 'POST /api/v1/session without a token', method: 'POST', path: '/api/v1/session', headers: { 'x-no-token': '1' } });
  // Finding 3: a customer token for an account that does not exist (404, no row made).
  out.push({
    name: 'token for a missing account',
    method: 'POST',
    path: '/api/v1/tokens',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'customer', account: 'nosuchacct' }),
  });
  // --- end of part "api"
  return out;
}

// ---- dump (issue 11, finding 1): statements a hostile migration source or backup appends to its SQL dump. ----
// Each must be refused by the dump guard (activities/sql-dump-guard.ts) with exactly `${kind} refused`; the
// secrets and values in them (hunter2, npa_…, 0wn3d) must never appear in the message.
export const HOSTILE_DUMP_STATEMENTS: { kind: string; sql: string }[] = [
  { kind: 'CREATE USER statement', sql: "CREATE USER 'pwned'@'%' IDENTIFIED BY 'hunter2';" },
  { kind: 'GRANT statement', sql: "GRANT ALL PRIVILEGES ON *.* TO 'pwned'@'%' WITH GRANT OPTION;" },
  { kind: 'GRANT statement', sql: "/*!40101 GRANT ALL ON *.* TO 'pwned'@'%' */;" },
  { kind: 'CREATE DATABASE statement', sql: 'CREATE DATABASE IF NOT EXISTS `pwned_db`;' },
  {
    kind: 'statement touching the npanel database',
    sql: "INSERT INTO npanel.api_tokens (token_hash, role, label) VALUES ('npa_0wn3d', 'admin', 'x');",
  },
  { kind: 'statement touching the npanel database', sql: "INSERT INTO `npanel` . `api_tokens` VALUES ('tok_0wn3d');" },
  {
    kind: 'statement touching the mysql database',
    sql: "UPDATE mysql.global_priv SET Priv = '{\"access\":18446744073709551615}' WHERE User = 'pwned';",
  },
  { kind: 'USE statement naming another database', sql: "USE npanel_other;\nINSERT INTO api_tokens VALUES ('npa_0wn3d');" },
  { kind: 'SET PASSWORD statement', sql: "SET PASSWORD FOR 'npanel_admin'@'%' = PASSWORD('hunter2');" },
  { kind: 'ALTER USER statement', sql: "ALTER USER 'npanel_admin'@'%' IDENTIFIED BY 'hunter2';" },
  { kind: 'LOAD DATA statement', sql: "LOAD DATA LOCAL INFILE '/etc/shadow' INTO TABLE t;" },
  { kind: 'SELECT INTO OUTFILE statement', sql: "SELECT '<?php system($_GET[0]); ?>' INTO OUTFILE '/var/www/0wn3d.php';" },
  { kind: 'SET GLOBAL statement', sql: "SET GLOBAL general_log_file = '/var/www/0wn3d.php';" },
  { kind: 'SET GLOBAL statement', sql: '/*!40101 SET @@GLOBAL.event_scheduler = ON */;' },
  { kind: 'INSTALL PLUGIN statement', sql: "INSTALL PLUGIN pwned SONAME 'ha_0wn3d.so';" },
  { kind: 'client command', sql: '\\! touch /tmp/npanel-0wn3d\n' },
  { kind: 'client command', sql: 'system touch /tmp/npanel-0wn3d\n' },
  { kind: 'client command', sql: 'source /etc/shadow\n' },
  { kind: 'statement naming another database', sql: "INSERT INTO `dave_shop`.`customers` VALUES (1, 'hunter2');" },
  {
    kind: 'GRANT statement',
    sql: "DELIMITER ;;\nCREATE DEFINER=`root`@`localhost` PROCEDURE p() BEGIN GRANT ALL ON *.* TO 'pwned'@'%'; END ;;\nDELIMITER ;\n",
  },
  {
    kind: 'SET sql_mode with a mode that changes parsing',
    sql: "SET sql_mode = 'NO_BACKSLASH_ESCAPES';\nINSERT INTO t VALUES ('a\\'); GRANT ALL ON *.* TO pwned; -- ');",
  },
  { kind: 'SET NAMES with an unsupported character set', sql: 'SET NAMES gbk;' },
  { kind: 'CALL statement', sql: 'CALL p();' },
];
