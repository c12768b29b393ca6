/** Where verifiers load the mdoc trust anchor (the IACA certificate). Referenced from issuer metadata. */
export const IACA_PATH = '/.well-known/iaca.pem';
/** The IACA's certificate revocation list (DER), named in every certificate's CRL distribution points. */
export const CRL_PATH = '/.well-known/iaca.crl';

/** The absolute IACA certificate URL for issuer metadata. Served at the origin of `publicUrl` plus its path. */
export const iacaUrl = (publicUrl: string): string => `${publicUrl}${IACA_PATH}`;

/** The absolute CRL URL, as certificates carry it. */
export const crlUrl = (publicUrl: string): string => `${publicUrl}${CRL_PATH}`;
