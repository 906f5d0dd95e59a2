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
  if (text.length > SPEC_MAX_BYTES || Buffer.byteLength(text, 'utf8') > SPEC_MAX_BYTES) {
    return {
      path: '',
      ...positionAt(text, firstOffsetBeyond(text, SPEC_MAX_BYTES)),
      message: `the spec is ${formatLimit(Buffer.byteLength(text, 'utf8'))} bytes, more than ${formatLimit(SPEC_MAX_BYTES)} (limit SPEC_MAX_BYTES)`,
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
