import { randomUUID } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Clock } from '../../clock.ts';
import { assertSingleLine, type Notifier, NotifierError, type OutgoingMessage } from './types.ts';

export interface SmtpOptions {
  host: string;
  port: number;
  /** starttls (upgrade after EHLO, required), implicit (SMTPS) or none (loopback hosts only). */
  tls: string;
  username: string;
  password: string;
  from: string;
  /** Whole-conversation timeout. */
  timeoutMs: number;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

interface Reply {
  code: number;
  lines: string[];
}

/** Reads SMTP replies (RFC 5321 §4.2: `250-more`, then `250 last`) from a socket, one at a time. */
class ReplyReader {
  private buffer = '';
  private lines: string[] = [];
  private readonly replies: Reply[] = [];
  private readonly waiting: ((reply: Reply | Error) => void)[] = [];
  private failure: Error | undefined;

  attach(socket: Socket): void {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.feed(chunk));
    socket.on('error', (error) => this.fail(error));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    if (this.buffer.length > 64 * 1024) {
      this.fail(new Error('reply too long'));
      return;
    }
    for (let end = this.buffer.indexOf('\r\n'); end >= 0; end = this.buffer.indexOf('\r\n')) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      this.lines.push(line.slice(4));
      if (line[3] !== '-') {
        const reply = { code: Number(line.slice(0, 3)), lines: this.lines };
        this.lines = [];
        const waiter = this.waiting.shift();
        if (waiter) waiter(reply);
        else this.replies.push(reply);
      }
    }
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.splice(0)) waiter(error);
  }

  next(): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) =>
      this.waiting.push((reply) => (reply instanceof Error ? reject(reply) : resolve(reply))),
    );
  }
}

const encodeHeader = (value: string): string =>
  /^[\x20-\x7e]*$/.test(value) ? value : `=?UTF-8?B?${Buffer.from(value, 'utf8').toString('base64')}?=`;

/** RFC 5322 message with a base64 UTF-8 body (so Arabic text and lines starting with "." are safe). */
export function formatMessage(from: string, message: OutgoingMessage, date: Date): string {
  const domain = from.split('@')[1] ?? 'localhost';
  const body = (
    Buffer.from(message.text, 'utf8')
      .toString('base64')
      .match(/.{1,76}/g) ?? []
  ).join('\r\n');
  return [
    `From: ${from}`,
    `To: ${message.to}`,
    `Subject: ${encodeHeader(message.subject)}`,
    `Date: ${date.toUTCString()}`,
    `Message-ID: <${randomUUID()}@${domain}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}

/**
 * A minimal SMTP client over node:net / node:tls (RFC 5321): EHLO, STARTTLS, optional AUTH PLAIN
 * (RFC 4616, never over an unencrypted connection to another host), MAIL FROM, RCPT TO, DATA, QUIT.
 * The whole conversation has one deadline; any unexpected reply fails the send with the SMTP code.
 */
export function smtpNotifier(options: SmtpOptions, clock: Clock): Notifier {
  return {
    name: 'smtp',
    async send(message: OutgoingMessage) {
      if (!options.host || !options.from) {
        throw new NotifierError('smtp', 'kyc.notify.smtp.host and .from must be configured');
      }
      assertSingleLine(message.to, 'recipient', 'smtp');
      assertSingleLine(message.subject, 'subject', 'smtp');
      assertSingleLine(options.from, 'sender', 'smtp');
      if (options.tls === 'none' && !LOOPBACK.has(options.host)) {
        throw new NotifierError('smtp', 'tls "none" is allowed only for a loopback host');
      }
      let socket: Socket | undefined;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new NotifierError('smtp', `no completion within ${options.timeoutMs} ms`)),
          options.timeoutMs,
        );
      });
      try {
        await Promise.race([
          deadline,
          converse(options, message, clock, (s) => {
            socket = s;
          }),
        ]);
      } catch (error) {
        if (error instanceof NotifierError) throw error;
        throw new NotifierError('smtp', (error as Error).message, { cause: error });
      } finally {
        clearTimeout(timer);
        socket?.destroy();
      }
    },
  };
}

async function converse(
  options: SmtpOptions,
  message: OutgoingMessage,
  clock: Clock,
  track: (socket: Socket) => void,
): Promise<void> {
  let socket: Socket =
    options.tls === 'implicit'
      ? tlsConnect({ host: options.host, port: options.port, servername: options.host })
      : netConnect({ host: options.host, port: options.port });
  track(socket);
  let reader = new ReplyReader();
  reader.attach(socket);
  const command = async (line: string | undefined, expect: number[], what: string): Promise<Reply> => {
    if (line !== undefined) socket.write(`${line}\r\n`);
    const reply = await reader.next();
    if (!expect.includes(reply.code)) {
      throw new NotifierError('smtp', `${what} refused: ${reply.code} ${reply.lines.at(-1) ?? ''}`.trim());
    }
    return reply;
  };

  await command(undefined, [220], 'greeting');
  let ehlo = await command('EHLO idissuer', [250], 'EHLO');
  if (options.tls === 'starttls') {
    if (!ehlo.lines.some((line) => /^STARTTLS\b/i.test(line))) {
      throw new NotifierError('smtp', 'server does not offer STARTTLS');
    }
    await command('STARTTLS', [220], 'STARTTLS');
    socket.removeAllListeners('data');
    socket = tlsConnect({ socket, servername: options.host });
    track(socket);
    reader = new ReplyReader();
    reader.attach(socket);
    ehlo = await command('EHLO idissuer', [250], 'EHLO');
  }
  if (options.username) {
    const plain = Buffer.from(`\0${options.username}\0${options.password}`, 'utf8').toString('base64');
    await command(`AUTH PLAIN ${plain}`, [235], 'AUTH');
  }
  await command(`MAIL FROM:<${options.from}>`, [250], 'MAIL FROM');
  await command(`RCPT TO:<${message.to}>`, [250, 251], 'RCPT TO');
  await command('DATA', [354], 'DATA');
  await command(`${formatMessage(options.from, message, new Date(clock.now()))}\r\n.`, [250], 'message');
  // The message is accepted; a server that drops the line instead of answering QUIT changes nothing.
  await command('QUIT', [221], 'QUIT').catch(() => {});
}
