import { dbLogin, dig, httpGet, type apiClient } from '../test/support/accounts';
import { ftpLoginWorks } from '../test/support/ftp';
import { imapLoginWorks } from '../test/support/imap';
import type { LoadedStack } from '../test/support/stack';
import { formatTable, median } from './common';

/** One provisioning as the benchmark timed it (bench/provision.ts). */
export interface TimedRun {
  ms: number;
  postMs: number;
  /** Wall clock when the POST was sent, to place the workflow's own timestamps on the same axis. */
  sentAt: number;
  workflowId: string;
  body: {
    username: string;
    domain: string;
    mailboxes: { local: string; password: string }[];
    ftp: { password: string };
    database: { name: string; password: string };
  };
}

type Api = ReturnType<typeof apiClient>['api'];

interface Step {
  name: string;
  status: string;
  startedAt?: string;
  finishedAt?: string;
}

/**
 * Where the time of one account goes: the POST, Temporal's start, each step's start and end (from the
 * `progress` query; workflow time is the time of the workflow task that ran the code, so scheduling and
 * dispatch overhead lands between steps), the close, and when the client saw it. Medians over the runs.
 */
export async function stepBreakdown(api: Api, runs: TimedRun[]) {
  const rows = new Map<string, { start: number[]; end: number[] }>();
  const add = (name: string, start: number, end: number) => {
    const r = rows.get(name) ?? { start: [], end: [] };
    r.start.push(start);
    r.end.push(end);
    rows.set(name, r);
  };
  for (const run of runs) {
    const res = await api('GET', `/api/v1/workflows/${encodeURIComponent(run.workflowId)}`);
    if (res.status !== 200 || res.body.status !== 'completed')
      throw new Error(`${run.workflowId}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    const at = (iso: string) => Date.parse(iso) - run.sentAt;
    add('POST answered (202)', 0, run.postMs);
    add('workflow started (Temporal startTime)', 0, at(res.body.startedAt));
    for (const s of (res.body.progress?.steps ?? []) as Step[]) {
      if (s.startedAt && s.finishedAt) add(`step ${s.name}`, at(s.startedAt), at(s.finishedAt));
    }
    add('workflow closed (Temporal closeTime)', 0, at(res.body.closedAt));
    add('client saw it completed (handle.result)', 0, run.ms);
  }
  const medians: Record<string, { start: number; end: number; duration: number }> = {};
  const table = [['', 'start', 'end', 'took']];
  for (const [name, r] of rows) {
    const m = { start: median(r.start), end: median(r.end), duration: median(r.end.map((e, i) => e - r.start[i]!)) };
    medians[name] = m;
    table.push([name, m.start.toFixed(0), m.end.toFixed(0), m.duration.toFixed(0)]);
  }
  return { medians, text: formatTable(table).replace(/^/gm, '  ') };
}

/**
 * The account exists as a user sees it: the API says completed; its site answers with a Host header, and
 * (`full`) its zone resolves, its mailbox, FTP user and database user log in. Throws on the first miss.
 */
export async function verifyAccount(stack: LoadedStack, api: Api, run: TimedRun, mode: 'full' | 'web-only' = 'full'): Promise<void> {
  const { username, domain } = run.body;
  const fail = (what: string) => {
    throw new Error(`verify ${username}: ${what}`);
  };
  const account = await api('GET', `/api/v1/accounts/${username}`);
  if (account.status !== 200 || account.body.status !== 'active') fail(`account is ${account.status} ${account.body?.status}`);
  const site = await httpGet(stack.file.nginx.http, domain);
  if (site.status !== 200 || !site.body.includes(domain)) fail(`site answered ${site.status}`);
  if (mode === 'web-only') return;
  if (!(await dig(stack, domain, 'A')).answers.includes(stack.file.node.ip)) fail('zone does not resolve');
  const mailbox = run.body.mailboxes[0]!;
  if (!(await imapLoginWorks(stack.file.imap, `${mailbox.local}@${domain}`, mailbox.password))) fail('IMAP login refused');
  if (!(await ftpLoginWorks(stack.file.ftp, username, run.body.ftp.password))) fail('FTP login refused');
  const db = await dbLogin(stack, run.body.database.name, run.body.database.password);
  if (!db.ok || !db.databases.includes(run.body.database.name)) fail(`database login: ${JSON.stringify(db)}`);
}
