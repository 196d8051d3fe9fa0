import fs from 'node:fs';
import type { TLSConfig } from '@temporalio/client';

/** Where a Temporal client finds its mTLS material: the CA that signed the frontend, and its own certificate. */
export interface TemporalTlsFiles {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** The name the frontend's certificate carries, when the address is not it (an IP). */
  serverName?: string;
}

/**
 * The SDK's TLS options (the same for Connection and NativeConnection) for a frontend that requires client
 * certificates; undefined = plain connection (the embedded dev server). The worker, the API and the stack's
 * own checks all build their options here.
 */
export function temporalTlsOptions(files: TemporalTlsFiles | undefined): TLSConfig | undefined {
  if (!files) return undefined;
  return {
    serverRootCACertificate: fs.readFileSync(files.caFile),
    clientCertPair: { crt: fs.readFileSync(files.certFile), key: fs.readFileSync(files.keyFile) },
    ...(files.serverName ? { serverNameOverride: files.serverName } : {}),
  };
}
