import type { Notifier, OutgoingMessage } from './types.ts';

/**
 * Development notifier that prints each message, code included, to stdout: deliberately not through
 * the structured logger, whose lines are shipped and kept. Never selected by default.
 */
export function consoleNotifier(
  write: (line: string) => void = (line) => process.stdout.write(line),
): Notifier {
  return {
    name: 'console',
    async send(message: OutgoingMessage) {
      write(`[${message.channel} to ${message.to}] ${message.subject}: ${message.text}\n`);
    },
  };
}
