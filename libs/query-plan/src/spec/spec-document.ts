// The spec text parsed with `yaml` (JSON is YAML too), kept as a document so that every value
// can be traced back to its line and column, including characters inside the `sql:` scalar.
// The input limits (limits.ts) are checked on the way: text size and characters first, token
// count, nesting and aliases while tokenising, the expanded size of the value after.
import { isMap, isPair, isScalar, isSeq, LineCounter, type Document, type Node, type Scalar } from 'yaml';
import { SPEC_MAX_ALIASES } from '../limits';
import type { SpecError } from '../types';
import { duplicateKeyErrors, parseBoundedDocument } from './bounded-yaml';
import { scalarSourceOffsets } from './scalar-offsets';
import { checkSpecText } from './text-checks';
import { checkSpecValues } from './value-checks';

export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

/** "sink.postgres.key[1]" from ['sink', 'postgres', 'key', 1]. */
export function formatPath(path: readonly PathSegment[]): string {
  return path.reduce<string>(
    (out, seg) => (typeof seg === 'number' ? `${out}[${seg}]` : out === '' ? seg : `${out}.${seg}`),
    '',
  );
}

export type ParsedDocument =
  { ok: true; document: SpecDocument; value: unknown } | { ok: false; errors: SpecError[] };

export class SpecDocument {
  private sqlOffsets: number[] | undefined;

  private constructor(
    private readonly text: string,
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  static parse(text: string): ParsedDocument {
    const textError = checkSpecText(text);
    if (textError) return { ok: false, errors: [textError] };
    const lines = new LineCounter();
    const position = (offset: number): Position => toPosition(lines, offset);
    const parsed = parseBoundedDocument(text, lines);
    if (!parsed.ok)
      return {
        ok: false,
        errors: [{ path: '', ...position(parsed.error.offset), message: parsed.error.message }],
      };
    const doc = parsed.doc;
    const syntaxErrors = [
      ...doc.errors.map((e) => ({ offset: e.pos[0], message: firstLine(e.message) })),
      ...duplicateKeyErrors(doc),
    ].sort((a, b) => a.offset - b.offset);
    if (syntaxErrors.length > 0) {
      return {
        ok: false,
        errors: syntaxErrors.map((e) => ({ path: '', ...position(e.offset), message: e.message })),
      };
    }
    if (doc.contents === null)
      return { ok: false, errors: [{ path: '', line: 1, column: 1, message: 'the spec is empty' }] };
    if (!isMap(doc.contents)) {
      const start = doc.contents.range?.[0] ?? 0;
      return {
        ok: false,
        errors: [
          { path: '', ...position(start), message: 'the spec must be a mapping (YAML) or an object (JSON)' },
        ],
      };
    }
    const document = new SpecDocument(text, doc, lines);
    let value: unknown;
    try {
      // yaml's own guard against nested aliases expanding exponentially; the alias count itself
      // was checked while tokenising, and checkSpecValues bounds the expanded size.
      // (yaml counts the anchor itself as one use, hence the + 1.)
      value = doc.toJS({ maxAliasCount: SPEC_MAX_ALIASES + 1 }) as unknown;
    } catch (error) {
      // e.g. a reference to an undefined anchor, or the alias expansion guard
      const message = error instanceof Error ? error.message : String(error);
      return {
        ok: false,
        errors: [
          {
            path: '',
            line: 1,
            column: 1,
            message: /excessive alias/i.test(message)
              ? `aliases nested too deeply (limit SPEC_MAX_ALIASES)`
              : message,
          },
        ],
      };
    }
    const problem = checkSpecValues(value);
    if (problem) {
      return {
        ok: false,
        errors: [
          {
            path: formatPath(problem.path),
            ...document.locate(problem.path, { key: problem.key ?? false }),
            message: problem.message,
          },
        ],
      };
    }
    return { ok: true, document, value };
  }

  /** Position of the value at `path`, or of its nearest existing ancestor; `key` points at the map key instead. */
  locate(path: readonly PathSegment[], options: { key?: boolean } = {}): Position {
    let node: unknown = this.doc.contents;
    let best = this.startOf(node) ?? 0;
    for (const [i, seg] of path.entries()) {
      const last = i === path.length - 1;
      if (isMap(node)) {
        const pair = node.items.find(
          (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
        );
        if (!pair) break;
        const keyStart = this.startOf(pair.key);
        if (last && options.key && keyStart !== undefined) return this.position(keyStart);
        best = this.startOf(pair.value) ?? keyStart ?? best;
        node = pair.value;
      } else if (isSeq(node) && typeof seg === 'number') {
        const item: unknown = node.items[seg];
        if (item === undefined) break;
        best = this.startOf(item) ?? best;
        node = item;
      } else {
        break;
      }
    }
    return this.position(best);
  }

  /** Position in the spec file of character `offset` of the `sql` string. */
  sqlPosition(offset: number): Position {
    const node = this.doc.get('sql', true);
    if (!isScalar(node) || !node.range) return this.locate(['sql']);
    const wanted = Math.max(offset, 0);
    const complete = (this.sqlOffsets?.length ?? 0) > String(node.value).length;
    if (!this.sqlOffsets || (wanted >= this.sqlOffsets.length && !complete)) {
      // Mapped only as far as needed, doubling: the first error of a long SQL is often early.
      const upTo = Math.max(wanted + 1, 2 * (this.sqlOffsets?.length ?? 512));
      this.sqlOffsets = scalarSourceOffsets(this.text, node as Scalar, upTo);
    }
    const offsets = this.sqlOffsets;
    const mapped = offsets[Math.min(wanted, offsets.length - 1)];
    return this.position(mapped ?? node.range[0]);
  }

  private startOf(node: unknown): number | undefined {
    return node && typeof node === 'object' && 'range' in node ? (node as Node).range?.[0] : undefined;
  }

  private position(offset: number): Position {
    return toPosition(this.lines, offset);
  }
}

function toPosition(lines: LineCounter, offset: number): Position {
  const { line, col } = lines.linePos(offset);
  return { line, column: col };
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}
