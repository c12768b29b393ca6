import { ALGORITHMS, type KeyPurpose, type KeyStore, type ManagedKey } from './spi.ts';

/**
 * Operator commands for src/cli.ts. They print key metadata only: kid, purpose, algorithm, status
 * and times. Private material never reaches these strings.
 */

const PURPOSES = Object.keys(ALGORITHMS) as KeyPurpose[];
const iso = (epochMs: number | undefined) => (epochMs === undefined ? '-' : new Date(epochMs).toISOString());

/** A plain-text table of every published key (active ones, and retired ones still published). */
export function listKeys(keyStore: KeyStore): string {
  const header = ['kid', 'purpose', 'alg', 'status', 'created', 'publish until'];
  const rows = PURPOSES.flatMap((purpose) => keyStore.published(purpose)).map((key: ManagedKey) => [
    key.kid,
    key.purpose,
    key.alg,
    key.status,
    iso(key.createdAt),
    iso(key.publishUntil),
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
}

/**
 * Rotates the keys of one purpose (`credential`, `oidc` or `encryption`), or of all when none is given, and
 * describes what changed. Throws on an unknown purpose, naming the accepted ones.
 */
export async function rotateKeys(keyStore: KeyStore, purpose?: string): Promise<string> {
  if (purpose !== undefined && !PURPOSES.includes(purpose as KeyPurpose)) {
    throw new Error(`unknown key purpose "${purpose}": use ${PURPOSES.join(' or ')}`);
  }
  const purposes = purpose ? [purpose as KeyPurpose] : PURPOSES;
  const lines: string[] = [];
  for (const p of purposes) {
    const previous = new Map(
      keyStore
        .published(p)
        .filter((k) => k.status === 'active')
        .map((k) => [k.alg, k]),
    );
    for (const key of await keyStore.rotate(p)) {
      const old = previous.get(key.alg);
      const retired = old && keyStore.find(old.kid);
      lines.push(
        `${p} ${key.alg}: new active key ${key.kid}` +
          (old ? `; ${old.kid} retired, published until ${iso(retired?.publishUntil)}` : ''),
      );
    }
  }
  return lines.join('\n');
}

/**
 * `keys init`: generates the signing keys of a store that has none (the explicit first step outside
 * demo mode, where the service never generates keys at start unless KEYS_INIT=true). A store that
 * already has its keys keeps them: nothing is generated, and the command says so.
 */
export async function initKeys(keyStore: KeyStore): Promise<string> {
  const generated = await keyStore.init({ generate: true });
  if (generated.length === 0) {
    return 'signing keys already present: nothing generated (keys list shows them; keys rotate replaces them)';
  }
  return generated.map((key) => `${key.purpose} ${key.alg}: new active key ${key.kid}`).join('\n');
}
