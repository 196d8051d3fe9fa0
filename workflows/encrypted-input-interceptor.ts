import { ApplicationFailure, type WorkflowInterceptorsFactory } from '@temporalio/workflow';
import { isUnencryptedMarker } from '../common/unencrypted-payload';
import { FAILURE } from '../common/failure-types';

const REFUSED = 'not encrypted with the NPanel codec key: refused (only NPanel clients holding the key may drive workflows)';

/**
 * Every NPanel workflow is started by an NPanel client (API, Schedules, a parent workflow) with one input,
 * encrypted by the payload codec. An input that arrived in plain text (marked by the worker's codec) or none at
 * all comes from a client without the key: the workflow fails at once, before any activity, with a
 * non-retryable `UnencryptedInput`. Signals and updates from such a client are refused the same way.
 */
export const interceptors: WorkflowInterceptorsFactory = () => ({
  inbound: [
    {
      async execute(input, next) {
        if (input.args.length === 0 || input.args.some(isUnencryptedMarker)) {
          throw ApplicationFailure.nonRetryable(`the workflow input was ${REFUSED}`, FAILURE.UnencryptedInput);
        }
        return next(input);
      },
      async handleSignal(input, next) {
        // A signal cannot answer with an error: a refused one is simply not delivered.
        if (input.args.some(isUnencryptedMarker)) return;
        return next(input);
      },
      validateUpdate(input, next) {
        if (input.args.some(isUnencryptedMarker))
          throw ApplicationFailure.nonRetryable(`the update's argument was ${REFUSED}`, FAILURE.UnencryptedInput);
        next(input);
      },
      async handleUpdate(input, next) {
        if (input.args.some(isUnencryptedMarker))
          throw ApplicationFailure.nonRetryable(`the update's argument was ${REFUSED}`, FAILURE.UnencryptedInput);
        return next(input);
      },
    },
  ],
});
