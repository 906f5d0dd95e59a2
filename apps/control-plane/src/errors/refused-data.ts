// Recognises "PostgreSQL refused a value of this request" among thrown errors: SQLSTATE class 22
// (data exception: out-of-range dates and numbers, NUL in text, bad encodings) and Prisma's
// value-does-not-fit codes. Request validation should stop such values first; this is the safety
// net that answers 400 rather than 500 for the ones it misses (schemathesis found
// `?since=0000-01-01T00:00:00Z`, year 0, reaching the database).

/** Prisma: value too long for the column, value out of range, number beyond 64 bits. */
const PRISMA_REFUSED = new Set(['P2000', 'P2020', 'P2033']);
const SQLSTATE_DATA_EXCEPTION = /^22[0-9A-Z]{3}$/;

interface ErrorLike {
  code?: unknown;
  meta?: { driverAdapterError?: { cause?: { originalCode?: unknown } } };
  cause?: unknown;
}

/** The SQLSTATE (or Prisma code) that says so, or undefined. */
export function refusedDataCode(error: unknown, depth = 0): string | undefined {
  if (depth > 4 || typeof error !== 'object' || error === null) return undefined;
  const e = error as ErrorLike;
  if (typeof e.code === 'string' && (PRISMA_REFUSED.has(e.code) || SQLSTATE_DATA_EXCEPTION.test(e.code)))
    return e.code;
  const sqlstate = e.meta?.driverAdapterError?.cause?.originalCode;
  if (typeof sqlstate === 'string' && SQLSTATE_DATA_EXCEPTION.test(sqlstate)) return sqlstate;
  return refusedDataCode(e.cause, depth + 1);
}
