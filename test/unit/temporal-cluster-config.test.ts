import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import pino from 'pino';
import YAML from 'yaml';
import { repoRoot } from '../../config/load';
import type { StackContext } from '../../stack/context';
import { clusterPortsProblem, stackPorts } from '../../stack/ports';
import {
  clusterConfigFiles,
  renderServerConfig,
  renderUiConfig,
  SERVER_RENDERED_KEYS,
  UI_RENDERED_KEYS,
} from '../../stack/services/temporal-cluster-config';
import { temporalPki } from '../../stack/services/temporal-pki';

/**
 * `up --temporal cluster` must run production's Temporal config, not a look-alike: the rendered files may
 * differ from deploy/temporal/config only at the listed port and path keys.
 */
const root = repoRoot();
const deploy = path.join(root, 'deploy', 'temporal', 'config');
const ctx = {
  root,
  home: '/var/lib/npanel/c/unit-cluster',
  ports: stackPorts(29300),
  log: pino({ level: 'silent' }),
  temporalMode: 'cluster',
} as unknown as StackContext;
const pki = temporalPki(ctx);

/** Every leaf as `a.b.0.c` → value. */
function leaves(value: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) for (const [kk, vv] of leaves(v, prefix ? `${prefix}.${k}` : k)) out.set(kk, vv);
  } else out.set(prefix, value);
  return out;
}

function changedKeys(source: string, rendered: string): string[] {
  const a = leaves(YAML.parse(source));
  const b = leaves(YAML.parse(rendered));
  const keys = new Set([...a.keys(), ...b.keys()]);
  return [...keys].filter((k) => a.get(k) !== b.get(k)).sort();
}

test('the server config is production.yaml with only its ports and paths changed', () => {
  const source = fs.readFileSync(path.join(deploy, 'production.yaml'), 'utf8');
  const rendered = renderServerConfig(source, ctx, pki, clusterConfigFiles(ctx));
  assert.deepEqual(changedKeys(source, rendered), [...SERVER_RENDERED_KEYS].sort());
  for (const key of SERVER_RENDERED_KEYS) {
    assert.match(key, /(Port|port|Address|filepath|File|Files\.\d+)$/, `${key} is a port, an address or a path`);
  }
  assert.ok(rendered.slice(0, 1024).includes('# enable-template'), 'env templating stays on (Temporal looks in the first 1 KB)');
  const server = YAML.parse(rendered);
  assert.equal(server.services.frontend.rpc.grpcPort, ctx.ports.temporal);
  assert.equal(server.global.tls.frontend.server.requireClientAuth, true);
  assert.equal(server.global.tls.frontend.server.certFile, pki.frontend.cert);
  assert.equal(
    server.persistence.datastores['postgres-default'].sql.password,
    '{{ env "TEMPORAL_DB_PASSWORD" }}',
    'no secret is written into the file',
  );
  assert.ok(server.persistence.numHistoryShards >= 4);
  // Temporal stores membership ports as smallint.
  for (const svc of Object.values(server.services) as { rpc: { membershipPort: number } }[]) assert.ok(svc.rpc.membershipPort <= 32767);
});

test("Temporal Web's config is ui-production.yaml with only addresses, ports and paths changed", () => {
  const source = fs.readFileSync(path.join(deploy, 'ui-production.yaml'), 'utf8');
  const rendered = renderUiConfig(source, ctx, pki);
  assert.deepEqual(changedKeys(source, rendered), [...UI_RENDERED_KEYS].sort());
  const ui = YAML.parse(rendered);
  assert.equal(ui.codec.endpoint, `http://127.0.0.1:${ctx.ports.api}/codec`);
  assert.equal(ui.tls.certFile, pki.clients.ui.cert);
});

test('a key the production file lacks is refused, not added', () => {
  const source = fs.readFileSync(path.join(deploy, 'production.yaml'), 'utf8').replace(/\n {2}pprof:\n {4}port: 7936\n/, '\n');
  assert.ok(!source.includes('pprof'));
  assert.throws(() => renderServerConfig(source, ctx, pki, clusterConfigFiles(ctx)), /no global\.pprof\.port/);
});

test('a port base whose cluster ports pass 32767 is refused with the reason', () => {
  assert.equal(clusterPortsProblem(29300), null);
  assert.match(clusterPortsProblem(32720) ?? '', /at most 32767.*32788/);
});
