/** A real SMTP server for tests that read the mail the server sends (smtp-server), keeping what it receives parsed. */
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
  headers: Map<string, unknown>;
}

/** `refuses(address)` makes the server turn a recipient away (550), as a full mailbox would. */
export async function startSmtp(
  refuses: (address: string) => boolean = () => false,
): Promise<{ inbox: Mail[]; url: string; close(): Promise<void> }> {
  const inbox: Mail[] = [];
  const smtp = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onRcptTo(address, _session, done) {
      done(refuses(address.address) ? new Error('550 mailbox unavailable') : undefined);
    },
    onData(stream, _session, done) {
      simpleParser(stream)
        .then((m) => {
          inbox.push({
            to: (Array.isArray(m.to) ? m.to[0] : m.to)?.text ?? '',
            subject: m.subject ?? '',
            text: m.text ?? '',
            html: typeof m.html === 'string' ? m.html : '',
            headers: m.headers,
          });
          done();
        })
        .catch(done);
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  const port = (smtp.server.address() as { port: number }).port;
  return { inbox, url: `smtp://127.0.0.1:${port}`, close: () => new Promise<void>((ok) => smtp.close(() => ok())) };
}
