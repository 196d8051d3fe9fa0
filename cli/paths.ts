import { stackHome } from '../stack/state-home';

export const DEV_PORT_BASE = 17100;
export const TEST_PORT_BASE = 27100;

export function defaultHome(): string {
  return process.env.NPANEL_HOME ?? stackHome('.npanel');
}

export function portBase(value: string | boolean | undefined, fallback: number): number {
  const raw = typeof value === 'string' ? value : process.env.NPANEL_PORT_BASE;
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1024 || n > 65000) throw new Error(`--port-base must be an integer from 1024 to 65000, got ${raw}`);
  return n;
}
