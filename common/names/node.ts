import { z } from 'zod';

/** A hosting node's ID: part of its task queue name (`npanel-node-<id>`) and of metric labels. */
export const NODE_ID_PATTERN = /^[a-z0-9]{1,32}$/;
export const nodeIdSchema = z.string().regex(NODE_ID_PATTERN, 'must be a node id (lowercase letters and digits)');
