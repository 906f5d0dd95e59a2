// Checks on the raw spec text, before any parser sees it: its size, and characters no spec may
// contain. Both run in one native pass over the text.
import { formatLimit, SPEC_MAX_BYTES } from '../limits';
import type { SpecError } from '../types';
import type { Position } from './spec-document';

/** 1-based line and column of `offset` (UTF-16 units, like yaml's LineCounter). Linear in `offset`. */
export function positionAt(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && nl < offset; nl = text.indexOf('\n', nl + 1)) {
    line++;
    lineStart = nl + 1;
  }
  return { line, column: offset - lineStart + 1 };
}

export function checkSpecText(text: string): SpecError | undefined {
  // UTF-8 never takes fewer bytes than UTF-16 units, so the cheap length test can only let
  // through texts the byte count then decides on.
  const bytes = text.length > SPEC_MAX_BYTES ? undefined : Buffer.byteLength(text, 'utf8');
  if (bytes === undefined || bytes > SPEC_MAX_BYTES) {
    // Only the head of an oversized text is looked at (and flattened: a request body arrives
    // as a rope of chunks, slow to index into character by character).
    const head = text.slice(0, SPEC_MAX_BYTES + 1);
    const offset =
      Buffer.byteLength(head, 'utf8') === head.length
        ? SPEC_MAX_BYTES
        : firstOffsetBeyond(head, SPEC_MAX_BYTES);
    return {
      path: '',
      ...positionAt(head, offset),
      message: `the spec is ${formatLimit(bytes ?? Buffer.byteLength(text, 'utf8'))} bytes, more than ${formatLimit(SPEC_MAX_BYTES)} (limit SPEC_MAX_BYTES)`,
    };
  }
  // YAML forbids U+0000 outright (it is outside the printable set) and PostgreSQL text columns,
  // where the control plane stores the spec, cannot hold it.
  const nul = text.indexOf('\0');
  if (nul !== -1)
    return {
      path: '',
      ...positionAt(text, nul),
      message: 'NUL character (U+0000) in the spec: YAML and JSON do not allow it',
    };
  return undefined;
}

/** Offset of the first UTF-16 unit whose UTF-8 encoding ends past `maxBytes`. */
function firstOffsetBeyond(text: string, maxBytes: number): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    // A surrogate pair is 4 bytes, counted as 2 per unit.
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code >= 0xd800 && code <= 0xdfff ? 2 : 3;
    if (bytes > maxBytes) return i;
  }
  return text.length;
}
