import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';

/**
 * Bundles workflows/ once at build time: bundling at worker start costs seconds on 2 cores, and a prebuilt
 * bundle is what production ships. The worker falls back to bundling only when this file is missing.
 */
export const WORKFLOW_BUNDLE_PATH = path.resolve(__dirname, '..', 'workflow-bundle.js');

/** Counts every workflow run's start and outcome through the `metrics` sink (worker/metrics.ts). */
export const OUTCOME_INTERCEPTOR_MODULE = require.resolve('../workflows/outcome-interceptor');
/** Every workflow interceptor of the worker: outcome counting, and refusing input a keyless client sent. */
export const WORKFLOW_INTERCEPTOR_MODULES = [OUTCOME_INTERCEPTOR_MODULE, require.resolve('../workflows/encrypted-input-interceptor')];

export async function buildWorkflowBundle(): Promise<void> {
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: { trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error, log() {} },
  });
  fs.writeFileSync(WORKFLOW_BUNDLE_PATH, code);
}

if (require.main === module) {
  buildWorkflowBundle().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
