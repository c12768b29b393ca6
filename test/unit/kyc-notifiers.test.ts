import { createHmac } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TemporarilyUnavailable } from '../../src/errors.ts';
import { consoleNotifier } from '../../src/kyc/notifiers/console.ts';
import { createNotifications } from '../../src/kyc/notifiers/index.ts';
import { smtpNotifier } from '../../src/kyc/notifiers/smtp.ts';
import { NotifierError, type OutgoingMessage } from '../../src/kyc/notifiers/types.ts';
import { webhookNotifier } from '../../src/kyc/notifiers/webhook.ts';
import { TestClock } from '../helpers/clock.ts';
import { type KycHarness, kycHarness } from '../protocol/kyc/harness.ts';

const clock = new TestClock(Date.UTC(2026, 10, 25, 12, 0, 0));
const message: OutgoingMessage = {
  channel: 'email',
  to: 'amina.hassan@example.org',
  subject: 'رمز الدخول / sign-in code',
  text: 'Your one-time sign-in code is 482913.\n.\nNever share it.',
  purpose: 'otp',
};

const servers: { close(): void }[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

interface SmtpSession {
  commands: string[];
  data: string;
}

/** A tiny SMTP server: scripted replies, records commands and the DATA payload. */
async function fakeSmtp(options: { rcptReply?: string; silent?: boolean } = {}) {
  const sessions: SmtpSession[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    const session: SmtpSession = { commands: [], data: '' };
    sessions.push(session);
    if (options.silent) return;
    let inData = false;
    let buffer = '';
    socket.write('220 fake.test ESMTP\r\n');
    socket.on('data', (chunk) => {
      buffer += chunk.toString('utf8');
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        if (inData) {
          if (line === '.') {
            inData = false;
            socket.write('250 2.0.0 queued\r\n');
          } else session.data += `${line}\r\n`;
          continue;
        }
        session.commands.push(line);
        const verb = line.split(/[ :]/)[0]!.toUpperCase();
        const reply: Record<string, string> = {
          EHLO: '250-fake.test\r\n250-AUTH PLAIN\r\n250 8BITMIME',
          AUTH: '235 2.7.0 ok',
          MAIL: '250 2.1.0 ok',
          RCPT: options.rcptReply ?? '250 2.1.5 ok',
          DATA: '354 go ahead',
          QUIT: '221 bye',
        };
        socket.write(`${reply[verb] ?? '500 unknown'}\r\n`);
        if (verb === 'DATA') inData = true;
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () => {
      for (const socket of sockets) socket.destroy();
      server.close();
    },
  });
  return { port: (server.address() as AddressInfo).port, sessions };
}

const smtpOptions = (port: number) => ({
  host: '127.0.0.1',
  port,
  tls: 'none',
  username: 'mailer',
  password: 'mail-secret',
  from: 'no-reply@issuer.example',
  timeoutMs: 2000,
});

describe('smtp notifier', () => {
  it('delivers over EHLO, AUTH PLAIN, MAIL FROM, RCPT TO and DATA with a UTF-8 body', async () => {
    const smtp = await fakeSmtp();
    await smtpNotifier(smtpOptions(smtp.port), clock).send(message);
    const [session] = smtp.sessions;
    expect(session!.commands).toEqual([
      'EHLO idissuer',
      `AUTH PLAIN ${Buffer.from('\0mailer\0mail-secret').toString('base64')}`,
      'MAIL FROM:<no-reply@issuer.example>',
      'RCPT TO:<amina.hassan@example.org>',
      'DATA',
      'QUIT',
    ]);
    const [headers = '', body = ''] = session!.data.split('\r\n\r\n');
    expect(headers).toContain('To: amina.hassan@example.org');
    expect(headers).toContain(`Subject: =?UTF-8?B?${Buffer.from(message.subject).toString('base64')}?=`);
    expect(headers).toContain('Date: Wed, 25 Nov 2026 12:00:00 GMT');
    expect(Buffer.from(body.replaceAll('\r\n', ''), 'base64').toString('utf8')).toBe(message.text);
  });

  it('fails with the SMTP reply when the server refuses the recipient', async () => {
    const smtp = await fakeSmtp({ rcptReply: '550 5.1.1 no such user' });
    const error = await smtpNotifier(smtpOptions(smtp.port), clock)
      .send(message)
      .catch((e) => e);
    expect(error).toBeInstanceOf(NotifierError);
    expect(error.message).toBe('smtp notifier: RCPT TO refused: 550 5.1.1 no such user');
  });

  it('gives up after its timeout when the server never answers', async () => {
    const smtp = await fakeSmtp({ silent: true });
    const started = Date.now();
    const error = await smtpNotifier({ ...smtpOptions(smtp.port), timeoutMs: 300 }, clock)
      .send(message)
      .catch((e) => e);
    expect(error.message).toBe('smtp notifier: no completion within 300 ms');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('fails fast when nothing listens, and refuses header injection and cleartext to remote hosts', async () => {
    const closed = await fakeSmtp();
    servers.pop()!.close();
    await expect(smtpNotifier(smtpOptions(closed.port), clock).send(message)).rejects.toThrow(NotifierError);
    const smtp = await fakeSmtp();
    await expect(
      smtpNotifier(smtpOptions(smtp.port), clock).send({
        ...message,
        to: 'a@example.org\r\nRCPT TO:<b@example.org>',
      }),
    ).rejects.toThrow('recipient contains a line break');
    await expect(
      smtpNotifier({ ...smtpOptions(25), host: 'mail.example.org' }, clock).send(message),
    ).rejects.toThrow('only for a loopback host');
    expect(smtp.sessions).toHaveLength(0);
  });
});

async function fakeWebhook(handler: (request: IncomingMessage, body: string) => number | undefined) {
  const server: Server = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => {
      body += chunk;
    });
    request.on('end', () => {
      const status = handler(request, body);
      if (status !== undefined) response.writeHead(status).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push({
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
}

describe('webhook notifier', () => {
  const secret = 's'.repeat(32);

  it('POSTs the message as JSON with a verifiable HMAC signature', async () => {
    let received: { body: string; signature: string; timestamp: string } | undefined;
    const url = await fakeWebhook((request, body) => {
      received = {
        body,
        signature: String(request.headers['x-signature']),
        timestamp: String(request.headers['x-signature-timestamp']),
      };
      return 204;
    });
    await webhookNotifier({ url, secret, timeoutMs: 2000 }, clock).send({
      ...message,
      channel: 'sms',
      to: '+212612345678',
    });
    const expected = createHmac('sha256', secret)
      .update(`${received!.timestamp}.${received!.body}`)
      .digest('hex');
    expect(received!.signature).toBe(`sha256=${expected}`);
    expect(received!.timestamp).toBe(String(clock.now() / 1000));
    expect(JSON.parse(received!.body)).toMatchObject({ channel: 'sms', to: '+212612345678', purpose: 'otp' });
  });

  it('fails on an error status and on a hanging endpoint, within the timeout', async () => {
    const failing = await fakeWebhook(() => 502);
    await expect(
      webhookNotifier({ url: failing, secret, timeoutMs: 2000 }, clock).send(message),
    ).rejects.toThrow('webhook notifier: endpoint answered HTTP 502');
    const hanging = await fakeWebhook(() => undefined);
    const started = Date.now();
    await expect(
      webhookNotifier({ url: hanging, secret, timeoutMs: 300 }, clock).send(message),
    ).rejects.toThrow('webhook notifier: no answer within 300 ms');
    expect(Date.now() - started).toBeLessThan(2000);
  });
});

describe('notification routing', () => {
  let h: KycHarness | undefined;
  afterEach(() => h?.close());

  it('turns a delivery failure into 503 with a log line that holds no message content', async () => {
    const failing = await fakeWebhook(() => 500);
    h = await kycHarness({
      notify: { sms: 'webhook', webhook: { url: failing, secret: 'w'.repeat(32), timeoutMs: 2000 } },
    });
    const notifications = createNotifications(h.services);
    const error = await notifications.deliver({ ...message, channel: 'sms' }).catch((e) => e);
    expect(error).toBeInstanceOf(TemporarilyUnavailable);
    expect(error.status).toBe(503);
    const line = h.logs.find((l) => l.msg === 'message delivery failed');
    expect(line).toMatchObject({ notifier: 'webhook', channel: 'sms', purpose: 'otp' });
    expect(JSON.stringify(h.logs)).not.toContain('482913');
  });

  it('refuses the outbox outside demo mode unless enabled', async () => {
    h = await kycHarness();
    const notifications = createNotifications(h.services);
    expect(notifications.outboxEnabled).toBe(false);
    await expect(notifications.deliver(message)).rejects.toBeInstanceOf(TemporarilyUnavailable);
  });

  it('console notifier prints the message on its own stream', async () => {
    const lines: string[] = [];
    await consoleNotifier((line) => lines.push(line)).send(message);
    expect(lines).toEqual([`[email to amina.hassan@example.org] ${message.subject}: ${message.text}\n`]);
  });
});
