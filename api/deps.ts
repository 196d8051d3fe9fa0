import type { Client } from '@temporalio/client';
import type { TokenVerifier } from './auth';

/** What the API needs from the outside world, injected so tests can build the app with `inject`. */
export interface AppDeps {
  temporal: Client;
  namespace: string;
  temporalUiUrl: string;
  verifyToken: TokenVerifier;
  /** Readiness probes; each resolves or throws. */
  checks: Record<string, () => Promise<void>>;
}
