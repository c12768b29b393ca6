/**
 * `ISSUER_URL` for the demo scripts (default http://127.0.0.1:3000), checked to answer first: an
 * error naming the URL tried instead of a library's stack trace. `wellKnown` is the metadata path
 * the script relies on (`openid-configuration` for the relying party, `openid-credential-issuer`
 * for the wallet).
 */
export async function reachableIssuer(
  wellKnown: string,
  raw = process.env.ISSUER_URL ?? 'http://127.0.0.1:3000',
): Promise<string> {
  const issuer = raw.replace(/\/+$/, '');
  if (!URL.canParse(issuer) || !/^https?:$/.test(new URL(issuer).protocol)) {
    throw new Error(`ISSUER_URL ${JSON.stringify(raw)} is not an http(s) URL`);
  }
  const probe = `${issuer}/.well-known/${wellKnown}`;
  let status: number;
  try {
    const res = await fetch(probe, { signal: AbortSignal.timeout(5000) });
    status = res.status;
    await res.body?.cancel();
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new Error(
      `cannot reach the issuer at ${issuer} (${why}): start it with npm start, or set ISSUER_URL to where it runs`,
    );
  }
  if (status !== 200) {
    throw new Error(`${probe} answered ${status}: is ISSUER_URL (${issuer}) this service's public URL?`);
  }
  return issuer;
}
