import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';
import { configSchema, temporalYamlSchema, type NpanelConfig, type TemporalYaml } from './schema';
import { envName, isArraySchema, leafPaths, schemaAt } from './env-keys';

/** Keys of `temporal` that come from the environment; the rest come from temporal.yaml. */
const TEMPORAL_ENV_KEYS = new Set(['address', 'uiUrl', 'namespace', 'tls']);

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Runs a service's main (API, worker): a configuration error is one readable line and exit 2, which systemd and
 * `bin/npanel up` report as is; anything else prints its stack and exits 1.
 */
export function runMain(main: () => Promise<void>): void {
  main().catch((err) => {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  });
}

export function repoRoot(): string {
  // Works from source (config/) and from the build (dist/config/).
  let dir = __dirname;
  while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
  return dir;
}

export function loadTemporalYaml(file = process.env.NPANEL_TEMPORAL_YAML ?? path.join(repoRoot(), 'temporal.yaml')): TemporalYaml {
  let raw: unknown;
  try {
    raw = YAML.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError(`config: cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = temporalYamlSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError(`config: ${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

function setPath(target: Record<string, unknown>, keys: string[], value: unknown): void {
  let obj = target;
  for (const key of keys.slice(0, -1)) obj = (obj[key] ??= {}) as Record<string, unknown>;
  obj[keys[keys.length - 1]!] = value;
}

/**
 * Reads the whole configuration once at start-up. A bad or missing value throws a ConfigError whose message is
 * one line naming the variable and the expected form, so `systemctl status` shows the cause at a glance.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): NpanelConfig {
  const raw: Record<string, unknown> = { temporal: { ...loadTemporalYaml() } };
  for (const keys of leafPaths(configSchema)) {
    if (keys[0] === 'temporal' && !TEMPORAL_ENV_KEYS.has(keys[1]!)) continue;
    const value = env[envName(keys)];
    if (value === undefined || value === '') continue;
    const leaf = schemaAt(configSchema, keys);
    setPath(
      raw,
      keys,
      isArraySchema(leaf)
        ? value
            .split(',')
            .map((v) => v.trim())
            .filter(Boolean)
        : value,
    );
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(describeIssue(parsed.error.issues[0]!, raw));
  return parsed.data;
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  const keys = issue.path.map(String);
  const fromYaml = keys[0] === 'temporal' && !TEMPORAL_ENV_KEYS.has(keys[1] ?? '');
  const where = fromYaml ? `temporal.yaml ${keys.slice(1).join('.')}` : `${envName(keys.slice(0, keysDepth(keys)))} (${keys.join('.')})`;
  const missing = keys.reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], raw) === undefined;
  return missing ? `config: ${where} is required: ${issue.message}` : `config: ${where} is invalid: ${issue.message}`;
}

/** Array issues point into the element (`dns.nameservers.0`); the variable is the array's. */
function keysDepth(keys: string[]): number {
  const i = keys.findIndex((k) => /^\d+$/.test(k));
  return i === -1 ? keys.length : i;
}
