import { parseCodedReply as parseReply, type CodedReply } from './coded-reply';
import { LineSocket } from './line-socket';

export type SmtpReply = CodedReply;

/** A minimal SMTP client for tests: what a real sender does, one command at a time, no pipelining. */
export class SmtpClient {
  private constructor(
    private readonly conn: LineSocket,
    readonly greeting: SmtpReply,
  ) {}

  static async connect(port: number, host = '127.0.0.1'): Promise<SmtpClient> {
    const conn = await LineSocket.connect(port, host);
    return new SmtpClient(conn, await conn.read(parseReply));
  }

  async command(line: string): Promise<SmtpReply> {
    if (/[\r\n]/.test(line)) throw new Error('SMTP command may not contain line breaks');
    this.conn.write(`${line}\r\n`);
    return this.conn.read(parseReply);
  }

  helo(name = 'client.npanel.test'): Promise<SmtpReply> {
    return this.command(`HELO ${name}`);
  }

  mailFrom(address: string): Promise<SmtpReply> {
    return this.command(`MAIL FROM:<${address}>`);
  }

  rcptTo(address: string): Promise<SmtpReply> {
    return this.command(`RCPT TO:<${address}>`);
  }

  /** DATA with dot-stuffing; `message` is headers + blank line + body, any line endings. */
  async data(message: string): Promise<SmtpReply> {
    const start = await this.command('DATA');
    if (start.code !== 354) return start;
    const body = message.replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
    this.conn.write(`${body}${body.endsWith('\r\n') ? '' : '\r\n'}.\r\n`);
    return this.conn.read(parseReply);
  }

  async quit(): Promise<void> {
    try {
      await this.command('QUIT');
    } finally {
      this.conn.close();
    }
  }

  close(): void {
    this.conn.close();
  }
}

export interface SendResult {
  /** Codes of each RCPT, in order. */
  rcpt: { address: string; code: number; text: string }[];
  /** The DATA reply, absent when no recipient was accepted. */
  data?: SmtpReply;
}

/** One message, one session: HELO, MAIL FROM, RCPT TO each, DATA if any recipient was accepted. */
export async function sendMail(opts: {
  port: number;
  host?: string;
  from: string;
  to: string[];
  subject: string;
  body: string;
}): Promise<SendResult> {
  const client = await SmtpClient.connect(opts.port, opts.host);
  try {
    if (client.greeting.code !== 220) throw new Error(`SMTP greeting ${client.greeting.code} ${client.greeting.text}`);
    const helo = await client.helo();
    if (helo.code !== 250) throw new Error(`HELO refused: ${helo.code} ${helo.text}`);
    const from = await client.mailFrom(opts.from);
    if (from.code !== 250) throw new Error(`MAIL FROM refused: ${from.code} ${from.text}`);
    const rcpt: SendResult['rcpt'] = [];
    for (const address of opts.to) rcpt.push({ address, ...(await client.rcptTo(address)) });
    if (!rcpt.some((r) => r.code === 250)) return { rcpt };
    const message = [
      `From: <${opts.from}>`,
      `To: ${opts.to.map((a) => `<${a}>`).join(', ')}`,
      `Subject: ${opts.subject}`,
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <${Date.now()}.${Math.random().toString(36).slice(2)}@client.npanel.test>`,
      '',
      opts.body,
    ].join('\r\n');
    return { rcpt, data: await client.data(message) };
  } finally {
    await client.quit().catch(() => client.close());
  }
}
