import { ApiError } from './api-error';
import type { AppDeps } from './deps';

/**
 * The hosting node a new account or migration goes to: the body's `node`, or the default node. An unknown one
 * is the caller's input error (400 naming `body.node`), found before anything is claimed or started.
 */
export async function targetNode(
  deps: Pick<AppDeps, 'repos' | 'defaultNode'>,
  requested: string | undefined,
): Promise<{ id: string; ip: string }> {
  const id = requested ?? deps.defaultNode;
  const node = await deps.repos.nodes.get(id);
  if (!node)
    throw new ApiError(400, 'bad_request', `invalid body.node: unknown node ${id}`, [{ field: 'body.node', message: 'unknown node' }]);
  return { id, ip: node.ip };
}
