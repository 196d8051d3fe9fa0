/**
 * A reply of the line protocols that answer with a three-digit code (FTP, RFC 959; SMTP, RFC 5321): one line
 * `250 text`, or several `250-...` lines ended by `250 ...`. The one parser of both test clients.
 */
export interface CodedReply {
  code: number;
  /** All lines of the reply without their codes, joined by newlines. */
  text: string;
}

/** A complete reply at the start of the buffer, and how many characters it used; undefined until it is. */
export function parseCodedReply(buffer: string): { value: CodedReply; used: number } | undefined {
  const lines: string[] = [];
  let pos = 0;
  for (;;) {
    const eol = buffer.indexOf('\r\n', pos);
    if (eol < 0) return undefined;
    const line = buffer.slice(pos, eol);
    pos = eol + 2;
    lines.push(line.slice(4));
    if (/^\d{3}( |$)/.test(line)) return { value: { code: Number(line.slice(0, 3)), text: lines.join('\n') }, used: pos };
  }
}
