import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import {
  databaseNameSchema,
  domainProblem,
  domainSchema,
  isDomainName as isDomain,
  mailLocalSchema,
  usernameSchema,
} from '../../common/names';
import { canonicalZone } from '../../activities/dns';

/**
 * One rule for names (issue 11): hidden characters are refused wherever they are, never trimmed or mapped away
 * (domainToASCII turns "ex\nample.test" into "example.test"), and an xn-- label must be valid punycode. The API
 * schema and the activities' own checks (web-names, dns) answer the same.
 */

const hidden = [
  'ex\nample.test',
  'ex\tample.test',
  'example.test\n',
  '\nexample.test',
  'exa\rmple.test',
  'ex\u0000ample.test',
  'ex\u00adample.test',
  'ex\u200bample.test',
  'ex\u2028ample.test',
  'ex\u007fample.test',
];
const badPunycode = ['xn--a.test', 'www.xn--a.test', 'example.xn--a', 'xn--zz.test'];

test('the API refuses a domain with hidden characters or invalid punycode, naming why', () => {
  for (const d of hidden) {
    const r = domainSchema.safeParse(d);
    assert.equal(r.success, false, JSON.stringify(d));
    assert.match(r.error!.issues.map((i) => i.message).join(';'), /control or invisible/, JSON.stringify(d));
  }
  for (const d of badPunycode) {
    const r = domainSchema.safeParse(d);
    assert.equal(r.success, false, d);
    assert.match(r.error!.issues[0]!.message, /punycode/, d);
  }
});

test('valid names still normalise as before: case, trailing dot, spaces, IDN to punycode', () => {
  assert.equal(domainSchema.parse(' Example.TEST. '), 'example.test');
  assert.equal(domainSchema.parse('bücher.test'), 'xn--bcher-kva.test');
  assert.equal(domainSchema.parse('xn--bcher-kva.test'), 'xn--bcher-kva.test');
  assert.equal(usernameSchema.parse(' Alice '), 'alice');
  assert.equal(domainProblem('example.test'), null);
});

test('the activities apply the same rule: web-names and the DNS zone name refuse what the API refuses', () => {
  for (const d of [...hidden, ...badPunycode]) {
    assert.equal(isDomain(d), false, JSON.stringify(d));
    assert.throws(
      () => canonicalZone(d),
      (e: unknown) => e instanceof ApplicationFailure && e.type === 'DnsInvalid',
      JSON.stringify(d),
    );
  }
  assert.equal(isDomain('xn--bcher-kva.test'), true);
  assert.equal(canonicalZone('Example.Test.'), 'example.test.');
});

test('usernames, mailbox locals and database names refuse hidden characters instead of trimming them', () => {
  for (const [schema, value] of [
    [usernameSchema, 'alice\n'],
    [usernameSchema, 'al\tice'],
    [mailLocalSchema, 'info\n'],
    [databaseNameSchema, '\nshopdb'],
    [databaseNameSchema, 'shop\u200bdb'],
  ] as const) {
    const r = schema.safeParse(value);
    assert.equal(r.success, false, JSON.stringify(value));
    assert.match(r.error!.issues[0]!.message, /control or invisible/);
  }
});
