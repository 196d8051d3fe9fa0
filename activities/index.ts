import type { NpanelConfig } from '../config/schema';

/**
 * Wires every activity module with its injected config. Control activities run on the shared `npanel` queue;
 * node activities on `npanel-node-<id>` of the node that owns the resource.
 */
export function createControlActivities(_config: NpanelConfig) {
  return {
    async ping(): Promise<string> {
      return 'pong';
    },
  };
}

export function createNodeActivities(config: NpanelConfig) {
  return {
    async nodePing(): Promise<string> {
      return `pong from ${config.node.id}`;
    },
  };
}

export type ControlActivities = ReturnType<typeof createControlActivities>;
export type NodeActivities = ReturnType<typeof createNodeActivities>;
