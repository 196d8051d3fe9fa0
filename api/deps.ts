import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { TokenVerifier } from './auth';
import type { Repositories } from '../db/repositories';
import type { InventoryReadings } from '../lib/metrics-inventory';
import type { HealthCheck } from './plugins/health';

/** What the API needs from the outside world, injected so tests can build the app with `inject`. */
export interface AppDeps {
  temporal: Client;
  namespace: string;
  temporalUiUrl: string;
  /** The console's public URL (NPANEL_API_PUBLIC_URL): its origin is admitted by the CSRF check. */
  publicUrl?: string;
  /** The payload codec, for the /codec endpoint (decrypting history for operators). */
  codec: PayloadCodec;
  verifyToken: TokenVerifier;
  repos: Repositories;
  /** The node an account lands on when the request names none (the embedded default's own node). */
  defaultNode: string;
  /**
   * Readiness probes; each resolves (optionally with details) or throws. A bare function is critical (its
   * failure makes /health/ready answer 503); `{ critical: false, run }` only degrades the status.
   */
  checks: Record<string, HealthCheck>;
  /** Scrape-time inventory readings for /metrics (certificates, migrations, DB connections); absent in unit tests. */
  inventoryReadings?: InventoryReadings;
  /** Folders whose filesystem /metrics reports (`npanel_host_disk_free_ratio`); default `/`. */
  healthDiskPaths?: string[];
  /** Run the readiness checks in the background this often, so their metrics move without callers (ms). */
  healthProbeIntervalMs?: number;
}
