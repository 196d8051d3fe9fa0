import { LineSocket } from './line-socket';

export interface ImapResponse {
  status: 'OK' | 'NO' | 'BAD';
  /** Text of the tagged line after the status. */
  text: string;
  /** Untagged lines (`* ...`), each with its literals inlined. */
  untagged: string[];
}

/**
 * Splits the buffer into logical lines (a line ending in `{n}` continues after n bytes of literal) and
 * returns once the line tagged `tag` has arrived.
 */
function parseTagged(tag: string) {
  return (buffer: string): { value: ImapResponse; used: number } | undefined => {
    const untagged: string[] = [];
    let pos = 0;
    for (;;) {
      let line = '';
      for (;;) {
        const eol = buffer.indexOf('\r\n', pos);
        if (eol < 0) return undefined;
        const part = buffer.slice(pos, eol);
        pos = eol + 2;
        line += part;
        const literal = /\{(\d+)\}$/.exec(part);
        if (!literal) break;
        const size = Number(literal[1]);
        if (buffer.length < pos + size) return undefined;
        line += '\r\n' + buffer.slice(pos, pos + size);
        pos += size;
      }
      if (line.startsWith(`${tag} `)) {
        const m = /^\S+ (OK|NO|BAD) ?(.*)$/s.exec(line);
        if (!m) throw new Error(`bad tagged IMAP line: ${line}`);
        return { value: { status: m[1] as ImapResponse['status'], text: m[2]!, untagged }, used: pos };
      }
      untagged.push(line);
    }
  };
}

/** The greeting: one untagged line. */
function parseGreeting(buffer: string): { value: string; used: number } | undefined {
  const eol = buffer.indexOf('\r\n');
  return eol < 0 ? undefined : { value: buffer.slice(0, eol), used: eol + 2 };
}

/** An IMAP quoted string; CR/LF can not be quoted (a real client would send a literal). */
function quote(value: string): string {
  if (/[\r\n]/.test(value)) throw new Error('value may not contain line breaks');
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A minimal IMAP4rev1 client for tests: LOGIN, SELECT, SEARCH, FETCH, LOGOUT over plain TCP. */
export class ImapClient {
  private next = 1;

  private constructor(
    private readonly conn: LineSocket,
    readonly greeting: string,
  ) {}

  static async connect(port: number, host = '127.0.0.1'): Promise<ImapClient> {
    const conn = await LineSocket.connect(port, host);
    return new ImapClient(conn, await conn.read(parseGreeting));
  }

  async command(command: string): Promise<ImapResponse> {
    const tag = `t${this.next++}`;
    this.conn.write(`${tag} ${command}\r\n`);
    return this.conn.read(parseTagged(tag));
  }

  /** True on `OK`, false on `NO` (wrong password, unknown or refused user). */
  async login(user: string, password: string): Promise<boolean> {
    const r = await this.command(`LOGIN ${quote(user)} ${quote(password)}`);
    if (r.status === 'BAD') throw new Error(`LOGIN BAD: ${r.text}`);
    return r.status === 'OK';
  }

  /** Selects a mailbox and returns its message count. */
  async select(mailbox = 'INBOX'): Promise<{ exists: number }> {
    const r = await this.command(`SELECT ${quote(mailbox)}`);
    if (r.status !== 'OK') throw new Error(`SELECT ${mailbox}: ${r.status} ${r.text}`);
    const exists = r.untagged.map((l) => /^\* (\d+) EXISTS$/.exec(l)).find(Boolean);
    return { exists: exists ? Number(exists[1]) : 0 };
  }

  /** Message sequence numbers matching `criteria` (e.g. `ALL`, `SUBJECT "x"`). */
  async search(criteria = 'ALL'): Promise<number[]> {
    const r = await this.command(`SEARCH ${criteria}`);
    if (r.status !== 'OK') throw new Error(`SEARCH: ${r.status} ${r.text}`);
    const line = r.untagged.find((l) => l.startsWith('* SEARCH'));
    return line ? line.slice('* SEARCH'.length).trim().split(/\s+/).filter(Boolean).map(Number) : [];
  }

  /** The full raw message (`BODY.PEEK[]`, so it stays unread) as UTF-8 text. */
  async fetchMessage(seq: number): Promise<string> {
    const r = await this.command(`FETCH ${seq} BODY.PEEK[]`);
    if (r.status !== 'OK') throw new Error(`FETCH ${seq}: ${r.status} ${r.text}`);
    const line = r.untagged.find((l) => new RegExp(`^\\* ${seq} FETCH `).test(l));
    const m = line ? /\{(\d+)\}\r\n/.exec(line) : null;
    if (!line || !m) throw new Error(`FETCH ${seq}: no literal in ${JSON.stringify(line)}`);
    const start = m.index + m[0].length;
    return Buffer.from(line.slice(start, start + Number(m[1])), 'latin1').toString('utf8');
  }

  async logout(): Promise<void> {
    try {
      await this.command('LOGOUT');
    } finally {
      this.conn.close();
    }
  }

  close(): void {
    this.conn.close();
  }
}

/** Connects, logs in and closes: true when the login is accepted. */
export async function imapLoginWorks(port: number, user: string, password: string): Promise<boolean> {
  const client = await ImapClient.connect(port);
  try {
    return await client.login(user, password);
  } finally {
    await client.logout().catch(() => client.close());
  }
}
