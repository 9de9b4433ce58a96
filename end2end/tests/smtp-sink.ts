import net from 'node:net';

// A tiny SMTP server for end-to-end tests: the server under test delivers
// its mail here (FIELDESK_SMTP_URL in playwright.config.ts), and tests read
// what arrived. Enough of RFC 5321 for lettre: greeting, EHLO/HELO, MAIL,
// RCPT, DATA (dot-unstuffed), RSET, NOOP, QUIT.

export const SMTP_SINK_PORT = 3125;

export interface SunkMail {
  to: string[];
  data: string;
}

export class SmtpSink {
  readonly mails: SunkMail[] = [];
  private server = net.createServer((socket) => this.session(socket));

  static async start(port = SMTP_SINK_PORT): Promise<SmtpSink> {
    const sink = new SmtpSink();
    await new Promise<void>((resolve, reject) => {
      sink.server.once('error', reject);
      sink.server.listen(port, '127.0.0.1', resolve);
    });
    return sink;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * The first mail to `address` (whose text contains `containing`, if
   * given: other tests' tickets mail the same demo customers), waiting for
   * it up to `timeoutMs`.
   */
  async mailTo(address: string, containing = '', timeoutMs = 15_000): Promise<SunkMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const mail = this.mails.find((m) => m.to.includes(address) && m.data.includes(containing));
      if (mail) return mail;
      if (Date.now() > deadline) throw new Error(`no mail to ${address}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private session(socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.write('220 sink.test ESMTP ready\r\n');
    let buffer = '';
    let to: string[] = [];
    let data: string[] | null = null;
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (data) {
          if (line === '.') {
            this.mails.push({ to, data: data.join('\r\n') });
            to = [];
            data = null;
            socket.write('250 2.0.0 Queued\r\n');
          } else {
            data.push(line.startsWith('.') ? line.slice(1) : line);
          }
          continue;
        }
        const verb = line.split(/[ :]/)[0].toUpperCase();
        const address = /<([^>]*)>/.exec(line)?.[1] ?? '';
        switch (verb) {
          case 'EHLO':
            socket.write('250-sink.test\r\n250 8BITMIME\r\n');
            break;
          case 'HELO':
          case 'MAIL':
          case 'NOOP':
            socket.write('250 OK\r\n');
            break;
          case 'RCPT':
            to.push(address);
            socket.write('250 OK\r\n');
            break;
          case 'RSET':
            to = [];
            socket.write('250 OK\r\n');
            break;
          case 'DATA':
            data = [];
            socket.write('354 End data with <CR><LF>.<CR><LF>\r\n');
            break;
          case 'QUIT':
            socket.end('221 Bye\r\n');
            break;
          default:
            socket.write('500 Command not recognized\r\n');
        }
      }
    });
  }
}

/** The path of the first magic link in a mail (soft line breaks of quoted-printable undone). */
export function magicLinkPath(mail: SunkMail): string {
  const text = mail.data.replace(/=\r\n/g, '');
  const match = /https?:\/\/[^/\s]+(\/access\/[A-Za-z0-9_.-]+)/.exec(text);
  if (!match) throw new Error(`no magic link in:\n${mail.data}`);
  return match[1];
}
