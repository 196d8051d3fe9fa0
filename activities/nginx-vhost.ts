import path from 'node:path';
import { isDomainName } from '../common/names';
import { isIPv4, isPort, isSafePath } from './web-names';

/**
 * Pure rendering of nginx config text: one vhost file per domain, plus the snippets the main config shares
 * with the vhosts (ACME challenge location, reload-generation probe). No I/O here, so a unit test can feed it
 * hostile input. Every value is re-validated and the renderer throws instead of escaping: only names that
 * passed web-names.ts can produce config text.
 */

export interface VhostSpec {
  domain: string;
  docroot: string;
  tls: { certPath: string; keyPath: string } | null;
  redirectHttps: boolean;
  suspended: boolean;
}

export interface VhostEnv {
  listenIp: string;
  httpPort: number;
  httpsPort: number;
  challengeDir: string;
  suspendedPage: string;
}

/**
 * First line of every managed vhost file: the spec as JSON. It keeps the normal config recoverable while the
 * vhost is suspended (unsuspend re-renders from it) and lets vhostStatus answer without parsing nginx syntax.
 */
const HEADER = '# npanel-vhost ';

/** Host header of the reloader's probe: '_' is not an LDH character, so no vhost can ever claim it. */
export const PROBE_HOST = '_probe.npanel';
export const PROBE_PATH = '/.npanel/generation';

export class UnsafeConfigValue extends Error {
  constructor(what: string, value: unknown) {
    super(`refusing to render nginx config: unsafe ${what} ${JSON.stringify(value)}`);
    this.name = 'UnsafeConfigValue';
  }
}

function check(ok: boolean, what: string, value: unknown): void {
  if (!ok) throw new UnsafeConfigValue(what, value);
}

/**
 * ACME HTTP-01 must work for every host, including a suspended vhost or one that redirects to HTTPS: the
 * default server and every vhost render this same block. `^~` wins over regex locations, `alias` maps the
 * token straight to a file in challengeDir. Logged on purpose: a failed validation is debugged from these lines.
 */
export function acmeChallengeLocation(challengeDir: string): string {
  check(isSafePath(challengeDir), 'challenge dir', challengeDir);
  return [
    '    location ^~ /.well-known/acme-challenge/ {',
    `        alias ${challengeDir.replace(/\/+$/, '')}/;`,
    '        default_type text/plain;',
    '    }',
  ].join('\n');
}

/** Where the reloader writes its generation number; next to the main config, included by the default server. */
export function generationFilePath(conf: string): string {
  return path.join(path.dirname(conf), 'npanel-generation.conf');
}

/** The probe answers "<generation> <worker pid>": the pid lets the reloader find the master and its workers. */
export function renderGeneration(generation: number): string {
  check(Number.isSafeInteger(generation) && generation >= 0, 'generation', generation);
  return `return 200 "${generation} $pid\\n";\n`;
}

/** The default server's probe location: answers the generation the running config was loaded with. */
export function generationProbeLocation(conf: string): string {
  const file = generationFilePath(conf);
  check(isSafePath(file), 'generation file', file);
  return [
    `    location = ${PROBE_PATH} {`,
    '        access_log off;',
    '        default_type text/plain;',
    `        include ${file};`,
    '    }',
  ].join('\n');
}

function validateSpec(spec: VhostSpec, env: VhostEnv): void {
  check(isDomainName(spec.domain), 'domain', spec.domain);
  check(isSafePath(spec.docroot), 'docroot', spec.docroot);
  if (spec.tls) {
    check(isSafePath(spec.tls.certPath), 'certificate path', spec.tls.certPath);
    check(isSafePath(spec.tls.keyPath), 'key path', spec.tls.keyPath);
  }
  check(typeof spec.redirectHttps === 'boolean', 'redirectHttps', spec.redirectHttps);
  check(typeof spec.suspended === 'boolean', 'suspended', spec.suspended);
  check(isIPv4(env.listenIp), 'listen address', env.listenIp);
  check(isPort(env.httpPort), 'http port', env.httpPort);
  check(isPort(env.httpsPort), 'https port', env.httpsPort);
  check(isSafePath(env.suspendedPage), 'suspended page', env.suspendedPage);
}

function contentBlock(spec: VhostSpec, env: VhostEnv, https: boolean): string {
  if (spec.suspended) {
    // 503 (temporary) rather than 403: crawlers keep the site indexed while it is suspended.
    return [
      '    location / {',
      '        return 503;',
      '    }',
      '    error_page 503 /.npanel-suspended.html;',
      '    location = /.npanel-suspended.html {',
      '        internal;',
      `        alias ${env.suspendedPage};`,
      '        default_type text/html;',
      '        add_header Cache-Control "no-store" always;',
      '    }',
    ].join('\n');
  }
  if (!https && spec.redirectHttps && spec.tls) {
    const port = env.httpsPort === 443 ? '' : `:${env.httpsPort}`;
    return ['    location / {', `        return 301 https://$host${port}$request_uri;`, '    }'].join('\n');
  }
  return [
    `    root ${spec.docroot};`,
    '    index index.html index.htm;',
    '    location / {',
    '        try_files $uri $uri/ =404;',
    '    }',
  ].join('\n');
}

export function renderVhost(spec: VhostSpec, env: VhostEnv): string {
  validateSpec(spec, env);
  const names = `${spec.domain} www.${spec.domain}`;
  const acme = acmeChallengeLocation(env.challengeDir);
  const header =
    HEADER +
    JSON.stringify({
      domain: spec.domain,
      docroot: spec.docroot,
      tls: spec.tls ? { certPath: spec.tls.certPath, keyPath: spec.tls.keyPath } : null,
      redirectHttps: spec.redirectHttps,
      suspended: spec.suspended,
    });
  const out = [
    header,
    '# Managed by NPanel: manual edits are overwritten.',
    'server {',
    `    listen ${env.listenIp}:${env.httpPort};`,
    `    server_name ${names};`,
    acme,
    contentBlock(spec, env, false),
    '}',
  ];
  if (spec.tls) {
    out.push(
      'server {',
      `    listen ${env.listenIp}:${env.httpsPort} ssl;`,
      `    server_name ${names};`,
      `    ssl_certificate ${spec.tls.certPath};`,
      `    ssl_certificate_key ${spec.tls.keyPath};`,
      acme,
      contentBlock(spec, env, true),
      '}',
    );
  }
  return out.join('\n') + '\n';
}

/** Reads the spec back from a managed file's first line; null for a file we did not write. */
export function parseVhostHeader(text: string): VhostSpec | null {
  const first = text.split('\n', 1)[0];
  if (!first.startsWith(HEADER)) return null;
  try {
    const raw = JSON.parse(first.slice(HEADER.length)) as VhostSpec;
    if (!isDomainName(raw.domain) || typeof raw.suspended !== 'boolean') return null;
    return { ...raw, tls: raw.tls ?? null, redirectHttps: raw.redirectHttps === true };
  } catch {
    return null;
  }
}
