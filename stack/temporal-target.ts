import { Connection } from '@temporalio/client';
import { temporalTlsOptions, type TemporalTlsFiles } from '../lib/temporal-tls';
import type { StackContext } from './context';
import { FRONTEND_SERVER_NAME, temporalPki } from './services/temporal-pki';

/**
 * Which Temporal a stack runs. `dev`: the CLI's dev server (SQLite file, plain gRPC, namespace `default`), the
 * default. `cluster`: a real server on PostgreSQL from deploy/temporal/config/production.yaml, mTLS only,
 * namespace `npanel` as in production (`up --temporal cluster`).
 */
export type TemporalMode = 'dev' | 'cluster';
export const TEMPORAL_MODES: readonly TemporalMode[] = ['dev', 'cluster'];

/** The cluster's namespace: production's (deploy/temporal.production.yaml). */
export const CLUSTER_NAMESPACE = 'npanel';

/** Who, of NPanel's own, presents a client certificate to the cluster's frontend (stack/services/temporal-pki.ts). */
export type TemporalCaller = 'worker' | 'api' | 'operator';

export interface StackTemporalTarget {
  address: string;
  namespace: string;
  tls?: TemporalTlsFiles;
}

/** The TLS files one caller presents to the cluster's frontend. */
export function clusterTlsFiles(ctx: StackContext, caller: TemporalCaller): TemporalTlsFiles {
  const pki = temporalPki(ctx);
  return { caFile: pki.ca, certFile: pki.clients[caller].cert, keyFile: pki.clients[caller].key, serverName: FRONTEND_SERVER_NAME };
}

/** Where this stack's Temporal is and how to reach it, as one caller. */
export function stackTemporalTarget(ctx: StackContext, caller: TemporalCaller = 'operator'): StackTemporalTarget {
  const address = `127.0.0.1:${ctx.ports.temporal}`;
  if (ctx.temporalMode === 'dev') return { address, namespace: 'default' };
  return { address, namespace: CLUSTER_NAMESPACE, tls: clusterTlsFiles(ctx, caller) };
}

export function connectTemporal(target: StackTemporalTarget, connectTimeout = 1000): Promise<Connection> {
  return Connection.connect({ address: target.address, connectTimeout, tls: temporalTlsOptions(target.tls) });
}
