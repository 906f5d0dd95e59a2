// Input limits of the spec compiler: the one place their values live. The control plane and the
// engine compile the same text with the same limits, so a spec the API accepts always runs.
//
// Why limits at all: specs arrive from the network, and the parsers underneath (yaml, the peg.js
// grammar of node-sql-parser) and the compiler's own tree walks cost time or stack in proportion
// to nesting and token counts. Every limit is checked before the stage it protects, in time linear
// in the input, and a spec over a limit gets an ordinary positioned error naming the limit.
//
// How the values were chosen: real specs are a few KB, nest at most 6 levels (sources → name →
// kafka → startingOffsets → topic → partition) and their SQL is 50-500 tokens. Each limit is a
// multiple of that, and small enough that the slowest spec just under the limits compiles in tens
// of milliseconds of CPU on the 2-core development box (`npx tsx bench/parse-limits/cli.ts`,
// figures in BENCHMARKS.md): compileSpec runs on the API's event loop, and that is how long one
// spec can hold every other request.

/** Size of the spec text in UTF-8 bytes. Real specs: 1-5 KB; room for an SQL_MAX_LENGTH query. */
export const SPEC_MAX_BYTES = 128 * 1024;

/**
 * UTF-8 bytes of an inline stateful module (`stateful.source`). A block scalar is one YAML token,
 * so the parse cost is flat; this keeps a spec with its module well inside SPEC_MAX_BYTES.
 */
export const STATEFUL_SOURCE_MAX_BYTES = 64 * 1024;

/** Nesting of YAML/JSON mappings and sequences (the top-level mapping is level 1). Real specs: 6. */
export const SPEC_MAX_DEPTH = 32;

/**
 * Lexical tokens of the YAML/JSON text (yaml's lexer: scalars, indicators, spaces, newlines,
 * comments). yaml's cost is per token, not per byte — a 64 KB block scalar is one token, a 64 KB
 * `[1,1,1,…]` is 64,000 — so this, not SPEC_MAX_BYTES, bounds parsing time (~4 µs a token).
 * ARCHITECTURE.md's example spec is ~170 tokens; each schema column is ~8, so ~550 columns fit.
 */
export const SPEC_MAX_TOKENS = 5_000;

/** Alias nodes (`*name`). Anchors let a spec share a schema between sources; a handful is typical. */
export const SPEC_MAX_ALIASES = 100;

/**
 * Values in the parsed spec (keys, scalars, mappings, sequences), counting an alias as every value
 * it stands for. Aliases make a small text expand to a large value (a "billion laughs" spec); this
 * bounds the validation and compilation work after parsing to what SPEC_MAX_TOKENS allows without.
 */
export const SPEC_MAX_VALUES = 5_000;

/** Characters of the `sql` string. Long literals and comments are cheap; SQL_MAX_TOKENS bounds the parser's work. */
export const SQL_MAX_LENGTH = 64 * 1024;

/**
 * Nesting in the SQL: parentheses, CASE … END, and prefix operators in a row (`NOT NOT x`,
 * `- - 1`). The grammar recurses a dozen frames per level and the compiler's passes once more;
 * 64 levels is far beyond anything written by hand.
 */
export const SQL_MAX_DEPTH = 64;

/**
 * AND / OR / XOR / NOT (and && / ||) in the SQL. A chain of N conditions is a tree N levels deep
 * for every recursive pass after parsing, so this bounds stack use as well as time. Real WHERE
 * clauses have a handful; a long list of alternatives is better written as IN (…).
 */
export const SQL_MAX_BOOLEAN_TERMS = 256;

/**
 * Lexical tokens of the SQL (words, numbers, quoted literals, operator characters). The parser
 * costs 10-30 µs a token on the development box with the source locations errors need, so this
 * is the main bound on SQL compile time. Real queries: 50-500 tokens.
 */
export const SQL_MAX_TOKENS = 1_000;

/**
 * Errors reported for one spec; a last error counts the rest. A hostile spec can have an error
 * per token, and each costs a position look-up and bytes in the response.
 */
export const MAX_REPORTED_ERRORS = 100;

/** `n` with thousands separators, for messages ("131,072"). */
export function formatLimit(n: number): string {
  return n.toLocaleString('en-US');
}

/**
 * Static tables of stream–static joins (spec `tables`): the engine holds each one whole in memory,
 * so every read is capped. Defaults fit a dimension table (customers, products); a spec may lower
 * or raise them up to the maxima, which keep one engine's cache far below its memory.
 */
export const STATIC_TABLE_DEFAULT_MAX_ROWS = 100_000;
export const STATIC_TABLE_MAX_ROWS = 1_000_000;
export const STATIC_TABLE_DEFAULT_MAX_BYTES = 64 * 1024 * 1024;
export const STATIC_TABLE_MAX_BYTES = 256 * 1024 * 1024;
/** Shortest refresh interval: a read of the whole table more often would load the database. */
export const STATIC_TABLE_MIN_REFRESH_MS = 1_000;
export const STATIC_TABLE_DEFAULT_REFRESH_MS = 60_000;
