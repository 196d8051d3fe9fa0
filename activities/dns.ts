import net from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { domainProblem, foldDomain, HIDDEN_CHARACTERS, zoneName } from '../common/names';
import { FAILURE } from '../common/failure-types';

export interface DnsConfig {
  /** PowerDNS webserver base, e.g. `http://127.0.0.1:17106` (with or without `/api/v1`). */
  apiUrl: string;
  apiKey: string;
  /** PowerDNS server id; `localhost` for every single-server install. */
  serverId?: string;
  /** NS names of every zone, e.g. `['ns1.npanel.test.', 'ns2.npanel.test.']`. */
  nameservers: string[];
  /** SOA contact, as a mailbox (`hostmaster@npanel.test`) or DNS name (`hostmaster.npanel.test.`). */
  hostmaster: string;
  defaultTtl: number;
}

export interface DnsRecordSet {
  /** Absolute name (trailing dot optional), `@` for the apex, or a name relative to the zone (`www`). */
  name: string;
  type: string;
  ttl: number;
  /** Empty: the rrset is deleted. */
  contents: string[];
}

/** Types the activities may write; anything else is an input error, not something to pass to PowerDNS. */
const WRITABLE_TYPES = new Set(['A', 'AAAA', 'CNAME', 'MX', 'TXT', 'NS', 'SRV', 'CAA']);
const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const TIMEOUT_MS = 10_000;

function invalid(message: string): ApplicationFailure {
  return ApplicationFailure.nonRetryable(message, FAILURE.DnsInvalid);
}

/**
 * The zone PowerDNS names a domain by (common/names/domain.ts: the one domain rule, folded for case and a
 * trailing dot, hidden characters refused rather than trimmed); DnsInvalid for anything else.
 */
export function canonicalZone(domain: string): string {
  if (typeof domain !== 'string') throw invalid('domain must be a string');
  const name = foldDomain(domain);
  const problem = domainProblem(name);
  if (problem) throw invalid(`not a valid domain name (${problem}): ${JSON.stringify(domain).slice(0, 100)}`);
  return zoneName(name);
}

function canonicalRecordName(name: string, zone: string): string {
  if (typeof name !== 'string') throw invalid('record name must be a string');
  if (HIDDEN_CHARACTERS.test(name)) throw invalid(`record name must not contain control characters: ${JSON.stringify(name).slice(0, 100)}`);
  const n = name.trim().toLowerCase();
  if (n === '@' || n === '' || n === zone || `${n}.` === zone) return zone;
  const absolute = n.endsWith('.') ? n : n.endsWith(`.${zone.slice(0, -1)}`) ? `${n}.` : `${n}.${zone}`;
  if (!absolute.endsWith(`.${zone}`)) throw invalid(`record ${name} is outside zone ${zone}`);
  const labels = absolute.slice(0, -1).split('.');
  // Service labels (_dmarc, _sip._tcp) and a leftmost wildcard are the only non-host labels allowed.
  const ok = labels.every((l, i) => LABEL.test(l) || /^_[a-z0-9-]{1,62}$/.test(l) || (i === 0 && l === '*'));
  if (!ok || absolute.length > 254) throw invalid(`not a valid record name: ${JSON.stringify(name).slice(0, 100)}`);
  return absolute;
}

function checkTtl(ttl: unknown): number {
  if (!Number.isInteger(ttl) || (ttl as number) < 1 || (ttl as number) > 604_800) {
    throw invalid(`ttl must be an integer between 1 and 604800, got ${String(ttl)}`);
  }
  return ttl as number;
}

function checkIp(ip: unknown, type: 'A' | 'AAAA'): string {
  const ok = typeof ip === 'string' && (type === 'A' ? net.isIPv4(ip) : net.isIPv6(ip));
  if (!ok) throw invalid(`not an IPv${type === 'A' ? 4 : 6} address: ${JSON.stringify(ip).slice(0, 60)}`);
  return ip as string;
}

interface PdnsRrset {
  name: string;
  type: string;
  ttl: number;
  changetype?: 'REPLACE' | 'DELETE';
  records: { content: string; disabled: boolean }[];
}

function rrset(name: string, type: string, ttl: number, contents: string[]): PdnsRrset {
  return { name, type, ttl, changetype: 'REPLACE', records: contents.map((content) => ({ content, disabled: false })) };
}

export function createDnsActivities(config: DnsConfig) {
  const base = `${config.apiUrl.replace(/\/+$/, '').replace(/\/api\/v1$/, '')}/api/v1/servers/${encodeURIComponent(
    config.serverId ?? 'localhost',
  )}`;
  // A zone without NS is useless to resolvers: refuse the config at start-up rather than at the first zone.
  if (config.nameservers.length === 0) throw new Error('DnsConfig.nameservers must name at least one server');
  const nameservers = config.nameservers.map((ns) => (ns.endsWith('.') ? ns : `${ns}.`));
  const hostmaster = config.hostmaster.replace('@', '.').replace(/\.?$/, '.');

  /**
   * One API call. 404 comes back as a status (absent zone is an answer, not an error), as do the statuses in
   * `allow`; PowerDNS's input errors become DnsInvalid, everything else a retryable Error.
   */
  async function api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    allow: number[] = [],
  ): Promise<{ status: number; data: T | null }> {
    let res: Response;
    try {
      res = await fetch(`${base}${path}`, {
        method,
        // The key travels only in this header; it is never part of a message or log line.
        headers: { 'X-API-Key': config.apiKey, ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      // Network trouble (refused, reset, timeout): plain Error so Temporal retries.
      throw new Error(`PowerDNS ${method} ${path} unreachable: ${(err as Error).message}`);
    }
    const text = await res.text();
    if (res.ok) return { status: res.status, data: (text ? JSON.parse(text) : null) as T | null };
    if (res.status === 404 || allow.includes(res.status)) return { status: res.status, data: null };
    let detail = text.slice(0, 300);
    try {
      detail = (JSON.parse(text) as { error?: string }).error ?? detail;
    } catch {
      /* not JSON: keep the raw text */
    }
    const message = `PowerDNS ${method} ${path} -> ${res.status}: ${detail}`;
    // 400/422 mean PowerDNS refused the content itself: retrying the same input cannot help.
    if (res.status === 400 || res.status === 422) throw invalid(message);
    // 401/403 (wrong key, allow-from) and 5xx are configuration or server faults an operator can fix: retryable.
    throw new Error(message);
  }

  const zonePath = (zone: string) => `/zones/${encodeURIComponent(zone)}`;

  function desiredRrsets(zone: string, ip: string, ttl: number): PdnsRrset[] {
    return [
      rrset(zone, 'NS', ttl, nameservers),
      rrset(zone, 'A', ttl, [ip]),
      rrset(`www.${zone}`, 'A', ttl, [ip]),
      rrset(`mail.${zone}`, 'A', ttl, [ip]),
      rrset(zone, 'MX', ttl, [`10 mail.${zone}`]),
      rrset(zone, 'TXT', ttl, ['"v=spf1 a mx -all"']),
    ];
  }

  return {
    /** Zone with SOA, NS, A (@, www, mail), MX and SPF; an existing zone is patched to the same state. */
    async ensureDnsZone(input: { domain: string; ip: string; ttl?: number }): Promise<{ created: boolean }> {
      const zone = canonicalZone(input.domain);
      const ip = checkIp(input.ip, 'A');
      const ttl = checkTtl(input.ttl ?? config.defaultTtl);
      const rrsets = desiredRrsets(zone, ip, ttl);
      const existing = await api('GET', `${zonePath(zone)}?rrsets=false`);
      if (existing.status === 404) {
        // Serial 0: soa_edit_api DEFAULT stamps a date-based serial on creation and bumps it on every PATCH.
        const soa = rrset(zone, 'SOA', ttl, [`${nameservers[0]} ${hostmaster} 0 10800 3600 604800 3600`]);
        const body = {
          name: zone,
          kind: 'Native',
          soa_edit_api: 'DEFAULT',
          nameservers: [],
          rrsets: [soa, ...rrsets].map(({ changetype: _, ...r }) => r),
        };
        // 409: a concurrent attempt made it first; fall through and patch it like any existing zone.
        if ((await api('POST', '/zones', body, [409])).status !== 409) return { created: true };
      }
      await api('PATCH', zonePath(zone), { rrsets });
      return { created: false };
    },

    /** Removes the zone; an absent zone is already the desired state. */
    async deleteDnsZone(input: { domain: string }): Promise<{ deleted: boolean }> {
      const zone = canonicalZone(input.domain);
      const res = await api('DELETE', zonePath(zone));
      return { deleted: res.status !== 404 };
    },

    /** The A/AAAA rrsets of a zone (a migration snapshot to roll back to); null when there is no zone. */
    async getDnsRecords(input: { domain: string }): Promise<DnsRecordSet[] | null> {
      const zone = canonicalZone(input.domain);
      const { data } = await api<{ rrsets: PdnsRrset[] }>('GET', zonePath(zone));
      if (!data) return null;
      return data.rrsets
        .filter((r) => r.type === 'A' || r.type === 'AAAA')
        .map((r) => ({ name: r.name, type: r.type, ttl: r.ttl, contents: r.records.map((x) => x.content).sort() }))
        .sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type));
    },

    /** Replaces the given rrsets (TTL lowering, DNS cut-over, rollback); other rrsets stay untouched. */
    async setDnsRecords(input: { domain: string; records: DnsRecordSet[] }): Promise<{ changed: number }> {
      const zone = canonicalZone(input.domain);
      if (!Array.isArray(input.records) || input.records.length === 0) throw invalid('records must be a non-empty list');
      const rrsets = input.records.map((r): PdnsRrset => {
        const type = String(r.type).toUpperCase();
        if (!WRITABLE_TYPES.has(type)) throw invalid(`record type ${JSON.stringify(r.type).slice(0, 20)} is not allowed`);
        const name = canonicalRecordName(r.name, zone);
        if (!Array.isArray(r.contents) || !r.contents.every((c) => typeof c === 'string' && c.length > 0)) {
          throw invalid(`contents of ${name} ${type} must be non-empty strings`);
        }
        if (type === 'A' || type === 'AAAA') r.contents.forEach((c) => checkIp(c, type));
        if (r.contents.length === 0) return { name, type, ttl: 0, changetype: 'DELETE', records: [] };
        return rrset(name, type, checkTtl(r.ttl), r.contents);
      });
      // PATCH on a missing zone is 404: changing records of a zone that does not exist is an input error.
      if ((await api('PATCH', zonePath(zone), { rrsets })).status === 404) throw invalid(`zone ${zone} does not exist`);
      return { changed: rrsets.length };
    },
  };
}

export type DnsActivities = ReturnType<typeof createDnsActivities>;
