import fs from 'node:fs';
import path from 'node:path';
import type { StackFile } from '../stack/stack-file';
import { canConnect } from '../stack/ports';

/** Prints each service of the stack and whether it answers (a TCP connect, or HTTP where there is HTTP). */
export async function status(home: string): Promise<boolean> {
  const file = path.join(home, 'stack.json');
  if (!fs.existsSync(file)) {
    process.stdout.write(`no stack.json in ${home}: the stack was never started there\n`);
    return false;
  }
  const s = JSON.parse(fs.readFileSync(file, 'utf8')) as StackFile;
  const port = (hostPort: string) => Number(hostPort.split(':').pop());
  const http = async (url: string) => {
    try {
      return (await fetch(url, { signal: AbortSignal.timeout(1500) })).status < 500;
    } catch {
      return false;
    }
  };
  const checks: [string, string, () => Promise<boolean>][] = [
    ['api', s.api, () => http(`${s.api}/health`)],
    ['temporal', s.temporal.address, () => canConnect(port(s.temporal.address))],
    ['temporal-web', s.temporal.ui, () => http(s.temporal.ui)],
    ['mariadb', `${s.mysql.host}:${s.mysql.port}`, () => canConnect(s.mysql.port)],
    ['powerdns', `${s.dns.host}:${s.dns.port}`, () => canConnect(s.dns.port)],
    ['powerdns-api', s.dns.api, () => http(s.dns.api)],
    ['nginx-http', `127.0.0.1:${s.nginx.http}`, () => canConnect(s.nginx.http)],
    ['nginx-https', `127.0.0.1:${s.nginx.https}`, () => canConnect(s.nginx.https)],
    ['imap', `127.0.0.1:${s.imap}`, () => canConnect(s.imap)],
    ['smtp', `127.0.0.1:${s.smtp}`, () => canConnect(s.smtp)],
    ['ftp', `127.0.0.1:${s.ftp}`, () => canConnect(s.ftp)],
    ['acme', s.acme.directory, () => canConnect(port(new URL(s.acme.directory).host))],
    ['ssh-source', `${s.migrationSource.host}:${s.migrationSource.port}`, () => canConnect(s.migrationSource.port)],
  ];
  const results = await Promise.all(checks.map(async ([name, where, check]) => [name, where, await check()] as const));
  for (const [name, where, ok] of results) process.stdout.write(`${ok ? 'up  ' : 'DOWN'}  ${name.padEnd(14)} ${where}\n`);
  return results.every(([, , ok]) => ok);
}
