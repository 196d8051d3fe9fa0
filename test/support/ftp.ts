import { parseCodedReply as parseReply } from './coded-reply';
import { LineSocket } from './line-socket';

/**
 * USER/PASS against an FTP server, as a client's first step: true on 230 (logged in), false on 530. No data
 * connection and no process spawn, so it costs one round trip per command (curl costs a fork and an exec).
 */
export async function ftpLoginWorks(port: number, user: string, password: string, host = '127.0.0.1'): Promise<boolean> {
  if (/[\r\n]/.test(user + password)) throw new Error('FTP user and password may not contain line breaks');
  const conn = await LineSocket.connect(port, host);
  try {
    const greeting = await conn.read(parseReply);
    if (greeting.code !== 220) throw new Error(`FTP greeting ${greeting.code} ${greeting.text}`);
    conn.write(`USER ${user}\r\n`);
    const u = await conn.read(parseReply);
    if (u.code === 230) return true;
    if (u.code !== 331) throw new Error(`FTP USER: ${u.code} ${u.text}`);
    conn.write(`PASS ${password}\r\n`);
    const p = await conn.read(parseReply);
    if (p.code === 230) {
      conn.write('QUIT\r\n');
      return true;
    }
    if (p.code === 530) return false;
    throw new Error(`FTP PASS: ${p.code} ${p.text}`);
  } finally {
    conn.close();
  }
}
