// yaml's parseDocument, taken apart so that token count, nesting and aliases are checked while the
// text is being tokenised, before the recursive composer runs: the lexer and the CST parser work
// with an explicit stack, so stopping them at the first token over a limit keeps a hostile text
// (800 KB of `[`, 20,000 one-character keys) to a bounded amount of work.
//
// Also replaces yaml's duplicate-key check: it compares every key with every earlier key of its
// mapping (quadratic in the keys), so here it is off and `duplicateKeyErrors` does it with a set.
import {
  Composer,
  CST,
  isMap,
  isPair,
  isScalar,
  isSeq,
  Lexer,
  Parser,
  YAMLParseError,
  type Document,
  type LineCounter,
} from 'yaml';
import { formatLimit, SPEC_MAX_ALIASES, SPEC_MAX_DEPTH, SPEC_MAX_TOKENS } from '../limits';

export interface OffsetError {
  offset: number;
  message: string;
}

export type BoundedParse = { ok: true; doc: Document.Parsed } | { ok: false; error: OffsetError };

export function parseBoundedDocument(text: string, lines: LineCounter): BoundedParse {
  const tokens = tokenize(text, lines);
  if (!tokens.ok) return tokens;
  const composer = new Composer({ uniqueKeys: false });
  let doc: Document.Parsed | undefined;
  // As parseDocument: the first document, and an error if there is another.
  for (const next of composer.compose(tokens.tokens, true, text.length)) {
    if (!doc) doc = next;
    else {
      doc.errors.push(
        new YAMLParseError(
          [next.range[0], next.range[1]],
          'MULTIPLE_DOCS',
          'the spec must be a single YAML document',
        ),
      );
      break;
    }
  }
  // compose(…, forceDoc = true) always ends with a document, even for an empty text.
  if (!doc) throw new Error('yaml composer returned no document');
  return { ok: true, doc };
}

type Tokenized = { ok: true; tokens: CST.Token[] } | { ok: false; error: OffsetError };

function tokenize(text: string, lines: LineCounter): Tokenized {
  const parser = new Parser(lines.addNewLine);
  lines.addNewLine(0); // what Parser.parse does before the first token
  const tokens: CST.Token[] = [];
  let count = 0;
  let aliases = 0;
  let scalarSourceNext = false; // the lexeme after a SCALAR marker is scalar text, never an alias
  for (const lexeme of new Lexer().lex(text)) {
    if (++count > SPEC_MAX_TOKENS)
      return fail(parser.offset, `more than ${formatLimit(SPEC_MAX_TOKENS)} tokens (limit SPEC_MAX_TOKENS)`);
    if (
      !scalarSourceNext &&
      lexeme.startsWith('*') &&
      CST.tokenType(lexeme) === 'alias' &&
      ++aliases > SPEC_MAX_ALIASES
    )
      return fail(
        parser.offset,
        `more than ${formatLimit(SPEC_MAX_ALIASES)} aliases (limit SPEC_MAX_ALIASES)`,
      );
    scalarSourceNext = lexeme === CST.SCALAR;
    for (const token of parser.next(lexeme)) tokens.push(token);
    // The parser's stack holds the document and every open collection (plus the scalar being
    // read), so it is short until the nesting gets close to the limit.
    if (parser.stack.length > SPEC_MAX_DEPTH) {
      const open = parser.stack.filter((token) => CST.isCollection(token));
      if (open.length > SPEC_MAX_DEPTH)
        return fail(
          open[open.length - 1]?.offset ?? parser.offset,
          `nesting deeper than ${formatLimit(SPEC_MAX_DEPTH)} levels (limit SPEC_MAX_DEPTH)`,
        );
    }
  }
  for (const token of parser.end()) tokens.push(token);
  return { ok: true, tokens };
}

function fail(offset: number, message: string): { ok: false; error: OffsetError } {
  return { ok: false, error: { offset, message } };
}

/** Offsets of keys repeated within one mapping, with yaml's own message; linear in the keys. */
export function duplicateKeyErrors(doc: Document.Parsed): OffsetError[] {
  const errors: OffsetError[] = [];
  const pending: unknown[] = [doc.contents];
  while (pending.length > 0) {
    const node = pending.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        if (isScalar(pair.key)) {
          if (seen.has(pair.key.value))
            errors.push({ offset: pair.key.range?.[0] ?? 0, message: 'Map keys must be unique' });
          seen.add(pair.key.value);
        }
        pending.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      pending.push(...node.items);
    }
  }
  return errors.sort((a, b) => a.offset - b.offset);
}
