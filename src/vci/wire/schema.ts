import { Ajv2020 } from 'ajv/dist/2020.js';
import type { AppError } from '../../errors.ts';

/**
 * The one ajv instance of the OpenID4VCI wire decoders. Strings are measured as JavaScript counts
 * them (`unicode: false`: UTF-16 code units), so a length limit means what it meant before the
 * decoders used schemas (test/unit/vci/wire.test.ts pins it). ajv calls that option deprecated and
 * says so through its logger, the only thing it would log here: strict mode throws instead.
 */
const ajv = new Ajv2020({ strict: true, unicode: false, allErrors: false, logger: false });

/** A JSON object as read from a request body (src/http/body.ts `readJson`). */
export type WireObject = Readonly<Record<string, unknown>>;

/**
 * One checked part of a request: the JSON Schema it must fit, and the error the spec names when it
 * does not. Decoders are ordered lists of these, so which error a request gets is the order of the
 * checks, not the order ajv happens to evaluate keywords in.
 */
export function field<T>(schema: object, reject: () => AppError): (value: unknown) => T {
  const validate = ajv.compile<T>(schema);
  return (value) => {
    if (!validate(value)) throw reject();
    return value;
  };
}

/** A type guard from a schema, for the parts of a request the spec lets a server ignore. */
export function fits<T>(schema: object): (value: unknown) => value is T {
  const validate = ajv.compile<T>(schema);
  return (value): value is T => validate(value);
}

export const isString = fits<string>({ type: 'string' });
