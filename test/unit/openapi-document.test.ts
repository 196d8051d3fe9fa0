import assert from 'node:assert/strict';
import { test } from 'node:test';
import { z } from 'zod';
import { usernameParam } from '../../common/account-input';
import { errorBody, workflowIdParam } from '../../common/api-schemas';
import { migrateSiteBody } from '../../common/migration-input';
import { pageQuery } from '../../common/paging';
import { tokenCreateInput } from '../../common/token-input';
import { EVENT_STREAM, openApiDocument } from '../../api/openapi-document';

/** The published document: every status a route can answer, and rules stated as shapes (issue 12, item 6). */

type Op = {
  responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }> }>;
  requestBody?: { content: Record<string, { schema: Record<string, unknown> }> };
  parameters?: { name: string; schema: Record<string, unknown> }[];
};
const op = (route: { method: string; url: string; access: string; schema: Record<string, unknown> }): Op => {
  const doc = openApiDocument([route]) as { paths: Record<string, Record<string, Op>> };
  return doc.paths[route.url.replace(/:([A-Za-z_]+)/g, '{$1}')]![route.method.toLowerCase()]!;
};
const bodyOf = (o: Op) => o.requestBody!.content['application/json']!.schema;

test('statuses of the layers in front of a handler are documented on every route that can answer them', () => {
  const post = op({
    method: 'POST',
    url: '/api/v1/accounts/:username/suspend',
    access: 'admin',
    schema: { params: usernameParam, body: z.object({}), response: { 202: z.object({}) } },
  });
  assert.deepEqual(Object.keys(post.responses).sort(), ['202', '400', '401', '403', '413', '414', '415', '429']);
  for (const code of ['400', '401', '403', '413', '414', '415', '429'])
    assert.ok(post.responses[code]!.content!['application/json'], `${code} has the error body`);
  const health = op({ method: 'GET', url: '/health', access: 'public', schema: { response: { 200: z.object({}) } } });
  assert.deepEqual(Object.keys(health.responses), ['200'], 'a public route without input answers nothing else');
});

test('a 204 has no media type; an event stream is text/event-stream of events', () => {
  const revoke = op({
    method: 'DELETE',
    url: '/api/v1/tokens/:id',
    access: 'admin',
    schema: { params: z.object({ id: z.string() }), response: { 204: z.null(), 404: errorBody } },
  });
  assert.equal(revoke.responses['204']!.content, undefined);
  const events = op({
    method: 'GET',
    url: '/api/v1/workflows/:id/events',
    access: 'any',
    schema: { params: workflowIdParam, produces: [EVENT_STREAM], response: { 404: errorBody } },
  });
  assert.equal(events.responses['200']!.content![EVENT_STREAM]!.schema.type, 'object');
});

test('rules are shapes the document states: one token shape per role, one credential per migration source', () => {
  const tokens = bodyOf(op({ method: 'POST', url: '/api/v1/tokens', access: 'admin', schema: { body: tokenCreateInput } }));
  const shapes = tokens.oneOf as { properties: Record<string, { not?: unknown }>; required: string[] }[];
  assert.equal(shapes.length, 2);
  assert.ok(
    shapes.some((s) => s.required.includes('account')),
    'a customer token requires an account',
  );
  assert.ok(
    shapes.some((s) => s.properties.account?.not !== undefined),
    'an admin token refuses one',
  );
  const migration = bodyOf(op({ method: 'POST', url: '/api/v1/migrations', access: 'admin', schema: { body: migrateSiteBody } }));
  const source = (
    migration.properties as Record<string, { anyOf: { required: string[]; properties: Record<string, { pattern?: string }> }[] }>
  ).source!;
  assert.deepEqual(
    source.anyOf.map((s) => s.required.filter((k) => k === 'privateKey' || k === 'password')),
    [['privateKey'], ['password']],
  );
  const docroot = new RegExp(source.anyOf[0]!.properties.docroot!.pattern!);
  assert.ok(docroot.test('/srv/www/..x'));
  for (const bad of ['srv/www', '/srv/../etc', '/srv/\nx', '/..']) assert.ok(!docroot.test(bad), bad);
});

test('query and path rules are patterns: no \\p{} a JSON Schema tool cannot use, no coerced numbers', () => {
  const list = op({ method: 'GET', url: '/api/v1/accounts', access: 'any', schema: { querystring: pageQuery } });
  const limit = new RegExp(list.parameters!.find((p) => p.name === 'limit')!.schema.pattern as string);
  assert.deepEqual(
    ['1', '50', '200', '201', '0', '0x10', '1e2'].map((v) => limit.test(v)),
    [true, true, true, false, false, false, false],
  );
  const cursor = new RegExp(list.parameters!.find((p) => p.name === 'cursor')!.schema.pattern as string);
  assert.ok(cursor.test('k1.616c696365') && !cursor.test('') && !cursor.test('k1.0a'));
  const account = op({ method: 'GET', url: '/api/v1/accounts/:username', access: 'any', schema: { params: usernameParam } });
  assert.ok(!JSON.stringify(account).includes('\\\\p{'), 'no unicode property escapes');
  assert.equal(account.parameters![0]!.schema.pattern, '^[a-z][a-z0-9]{0,15}$');
});
