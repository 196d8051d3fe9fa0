import { z } from 'zod';
import { WORKFLOW_STATUSES } from './constants';
import { limitParam } from './paging';
import { WORKFLOW_TYPES } from './workflow-types';
import { WORKFLOW_ID_PATTERN } from './workflow-ids';

/** Shared zod contracts of the API (requests and responses). Workflow inputs import the same schemas. */

export const errorBody = z.object({
  error: z.string(),
  message: z.string(),
  details: z.unknown().optional(),
  correlationId: z.string().optional(),
});

export const workflowIdParam = z.object({
  id: z.string().regex(WORKFLOW_ID_PATTERN, 'a workflow ID (letters, digits, . _ : -)'),
});

const filterValue = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,252}$/, 'lowercase letters, digits, dots and dashes');

export const workflowListQuery = z.object({
  type: z.enum(WORKFLOW_TYPES).optional(),
  status: z.enum(WORKFLOW_STATUSES).optional(),
  account: filterValue.optional(),
  domain: filterValue.optional(),
  /** Prefix search on the workflow ID, e.g. `provision-acme-`. */
  id: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,200}$/)
    .optional(),
  limit: limitParam(500, 50),
});

export const workflowSummary = z.object({
  workflowId: z.string(),
  runId: z.string(),
  type: z.string(),
  status: z.enum(WORKFLOW_STATUSES),
  account: z.string().nullable(),
  domain: z.string().nullable(),
  node: z.string().nullable(),
  startedAt: z.string(),
  closedAt: z.string().nullable(),
});

export const workflowDetail = workflowSummary.extend({
  progress: z.unknown(),
  result: z.unknown(),
  error: z.object({ message: z.string(), type: z.string().nullable() }).nullable(),
  temporalUi: z.string(),
});

export const workflowStarted = z.object({ workflowId: z.string() });
