// JSON request bodies nested deeper than any API body needs are refused before JSON.parse: the
// parse itself copes, but everything recursive after it (zod, JSON.stringify into a json column,
// logging) would overflow the stack on a 100,000-deep body. Spec uploads never get here (they are
// read as text and the compiler applies the same limit); this guards every other JSON body.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { limits } from '@sluice/query-plan';

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Deepest nesting of objects/arrays in JSON text, outside strings; stops once past `limit`. */
export function jsonDepthExceeds(body: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < body.length; i++) {
    const byte = body[i];
    if (inString) {
      if (byte === BACKSLASH) i++;
      else if (byte === QUOTE) inString = false;
    } else if (byte === QUOTE) inString = true;
    else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** body-parser `verify` hook: throws an http-errors-shaped 400, which Nest answers with its message. */
export function refuseDeepJson(_req: IncomingMessage, _res: ServerResponse, body: Buffer): void {
  if (!jsonDepthExceeds(body, limits.SPEC_MAX_DEPTH)) return;
  throw Object.assign(
    new Error(`JSON body nested deeper than ${limits.SPEC_MAX_DEPTH} levels (limit SPEC_MAX_DEPTH)`),
    { status: 400, type: 'entity.too.deep' },
  );
}
