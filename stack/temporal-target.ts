import path from 'node:path';
import { Connection } from '@temporalio/client';
import { temporalTlsOptions, type TemporalTlsFiles } from '../lib/temporal-tls';
import type { StackContext } from './context';

/**
 * Which Temporal a stack runs. `dev`: the CLI's dev server (SQLite file, plain gRPC, namespace `default`), the
 * default. `cluster`: a real server on PostgreSQL from deploy/temporal/config/production.yaml, mTLS only,
 * namespace `npanel` as in production (`up --temporal cluster`).
 */
export type TemporalMode = 'dev' | 'cluster';
export const TEMPORAL_MODES: readonly TemporalMode[] = ['dev', 'cluster'];

/** The cluster's namespace: production's (deploy/temporal.production.yaml). */
export const CLUSTER_NAMESPACE = 'npanel';

/** Who presents which client certificate to the cluster's frontend (stack/services/temporal-pki.ts). */
export type TemporalCaller = 'worker' | 'api' | 'operator';

export interface StackTemporalTarget {
  address: string;
  namespace: string;
  tls?: TemporalTlsFiles;
}

/** The frontend's TLS files for one caller; the names mirror stack/services/temporal-pki.ts. */
export function clusterTlsFiles(ctx: StackContext, caller: TemporalCaller | 'ui' | 'system-worker'): TemporalTlsFiles {
  const dir = path.join(ctx.home, 'temporal-cluster', 'tls');
  return { caFile: path.join(dir, 'ca.pem'), certFile: path.join(dir, `client-${caller}.pem`), keyFile: path.join(dir, `client-${caller}.key`), serverName: 'localhost' };
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
