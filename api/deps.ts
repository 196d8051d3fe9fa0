import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { TokenVerifier } from './auth';
import type { Repositories } from '../db/repositories';

/** What the API needs from the outside world, injected so tests can build the app with `inject`. */
export interface AppDeps {
  temporal: Client;
  namespace: string;
  temporalUiUrl: string;
  /** The payload codec, for the /codec endpoint (decrypting history for operators). */
  codec: PayloadCodec;
  verifyToken: TokenVerifier;
  repos: Repositories;
  /** The node an account lands on when the request names none (the embedded default's own node). */
  defaultNode: string;
  /** Readiness probes; each resolves or throws. */
  checks: Record<string, () => Promise<void>>;
}
