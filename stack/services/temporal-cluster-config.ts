import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import type { StackContext } from '../context';
import type { TemporalPki } from './temporal-pki';

/**
 * `up --temporal cluster` runs deploy/temporal/config/production.yaml (and ui-production.yaml) itself, not a
 * look-alike: the files are rendered with only the keys below changed, each to the stack's port or path. So
 * whatever the tests prove about the cluster holds for the production file; a key added to production is
 * taken over as is. The DB address, password and metrics port stay `{{ env … }}` templates, as in production.
 */
export const SERVER_RENDERED_KEYS: readonly string[] = [
  'services.frontend.rpc.grpcPort',
  'services.frontend.rpc.membershipPort',
  'services.frontend.rpc.httpPort',
  'services.history.rpc.grpcPort',
  'services.history.rpc.membershipPort',
  'services.matching.rpc.grpcPort',
  'services.matching.rpc.membershipPort',
  'services.worker.rpc.grpcPort',
  'services.worker.rpc.membershipPort',
  'global.pprof.port',
  'clusterMetadata.clusterInformation.active.rpcAddress',
  'clusterMetadata.clusterInformation.active.httpAddress',
  'dynamicConfigClient.filepath',
  'global.tls.frontend.server.certFile',
  'global.tls.frontend.server.keyFile',
  'global.tls.frontend.server.clientCaFiles.0',
  'global.tls.frontend.client.rootCaFiles.0',
  'global.tls.systemWorker.certFile',
  'global.tls.systemWorker.keyFile',
  'global.tls.systemWorker.client.rootCaFiles.0',
];

/** Temporal Web's file: the frontend address, its own port, the API's codec endpoint and origin, TLS paths. */
export const UI_RENDERED_KEYS: readonly string[] = [
  'temporalGrpcAddress',
  'port',
  'codec.endpoint',
  'cors.allowOrigins.0',
  'tls.caFile',
  'tls.certFile',
  'tls.keyFile',
];

export interface ClusterConfigFiles {
  dir: string;
  /** The server's rendered config (`temporal-server --config-file`). */
  server: string;
  dynamicConfig: string;
  /** temporal-ui-server reads `<root>/<configDir>/<env>.yaml`. */
  uiRoot: string;
  uiEnv: string;
  ui: string;
}

export function clusterConfigFiles(ctx: StackContext): ClusterConfigFiles {
  const dir = path.join(ctx.home, 'temporal-cluster', 'config');
  return {
    dir,
    server: path.join(dir, 'production.yaml'),
    dynamicConfig: path.join(dir, 'dynamicconfig.yaml'),
    uiRoot: path.dirname(dir),
    uiEnv: 'ui-production',
    ui: path.join(dir, 'ui-production.yaml'),
  };
}

const keyPath = (dotted: string) => dotted.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));

/** Sets each key, refusing one the source lacks: a renamed production key must fail here, not be added. */
function setAll(doc: YAML.Document, values: Record<string, unknown>, allowed: readonly string[]): void {
  for (const [key, value] of Object.entries(values)) {
    if (!allowed.includes(key)) throw new Error(`rendering ${key}: not a key the stack may change`);
    if (!doc.hasIn(keyPath(key))) throw new Error(`deploy config has no ${key}: stack/services/temporal-cluster-config.ts needs updating`);
    doc.setIn(keyPath(key), value);
  }
}

export function renderServerConfig(source: string, ctx: StackContext, pki: TemporalPki, files: ClusterConfigFiles): string {
  const p = ctx.ports;
  const c = p.cluster;
  const doc = YAML.parseDocument(source);
  setAll(
    doc,
    {
      'services.frontend.rpc.grpcPort': p.temporal,
      'services.frontend.rpc.membershipPort': c.frontendMembership,
      'services.frontend.rpc.httpPort': p.temporalHttp,
      'services.history.rpc.grpcPort': c.historyGrpc,
      'services.history.rpc.membershipPort': c.historyMembership,
      'services.matching.rpc.grpcPort': c.matchingGrpc,
      'services.matching.rpc.membershipPort': c.matchingMembership,
      'services.worker.rpc.grpcPort': c.workerGrpc,
      'services.worker.rpc.membershipPort': c.workerMembership,
      'global.pprof.port': c.pprof,
      'clusterMetadata.clusterInformation.active.rpcAddress': `127.0.0.1:${p.temporal}`,
      'clusterMetadata.clusterInformation.active.httpAddress': `127.0.0.1:${p.temporalHttp}`,
      'dynamicConfigClient.filepath': files.dynamicConfig,
      'global.tls.frontend.server.certFile': pki.frontend.cert,
      'global.tls.frontend.server.keyFile': pki.frontend.key,
      'global.tls.frontend.server.clientCaFiles.0': pki.ca,
      'global.tls.frontend.client.rootCaFiles.0': pki.ca,
      'global.tls.systemWorker.certFile': pki.clients['system-worker'].cert,
      'global.tls.systemWorker.keyFile': pki.clients['system-worker'].key,
      'global.tls.systemWorker.client.rootCaFiles.0': pki.ca,
    },
    SERVER_RENDERED_KEYS,
  );
  // The header comment (`# enable-template`, which turns on the env templates) survives: it is the document's.
  return `# Rendered by npanel from deploy/temporal/config/production.yaml: only ports and paths differ.\n${doc.toString()}`;
}

export function renderUiConfig(source: string, ctx: StackContext, pki: TemporalPki): string {
  const api = `http://127.0.0.1:${ctx.ports.api}`;
  const doc = YAML.parseDocument(source);
  setAll(
    doc,
    {
      temporalGrpcAddress: `127.0.0.1:${ctx.ports.temporal}`,
      port: ctx.ports.temporalUi,
      'codec.endpoint': `${api}/codec`,
      'cors.allowOrigins.0': api,
      'tls.caFile': pki.ca,
      'tls.certFile': pki.clients.ui.cert,
      'tls.keyFile': pki.clients.ui.key,
    },
    UI_RENDERED_KEYS,
  );
  return doc.toString();
}

/** Writes the three files (the dynamic config is copied as is) from the repository's deploy folder. */
export function writeClusterConfig(ctx: StackContext, pki: TemporalPki): ClusterConfigFiles {
  const files = clusterConfigFiles(ctx);
  const deploy = path.join(ctx.root, 'deploy', 'temporal', 'config');
  fs.mkdirSync(files.dir, { recursive: true });
  fs.writeFileSync(files.server, renderServerConfig(fs.readFileSync(path.join(deploy, 'production.yaml'), 'utf8'), ctx, pki, files));
  fs.copyFileSync(path.join(deploy, 'dynamicconfig.yaml'), files.dynamicConfig);
  fs.writeFileSync(files.ui, renderUiConfig(fs.readFileSync(path.join(deploy, 'ui-production.yaml'), 'utf8'), ctx, pki));
  return files;
}
