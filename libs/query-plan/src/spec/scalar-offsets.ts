// Maps each character of a YAML string scalar's value to its offset in the spec text, so SQL
// positions become spec positions. Handles block literals (`sql: |`, the usual case) exactly,
// and folding/escapes of the other styles well enough; the mapping is checked character by
// character and, from the first mismatch on, falls back to the last offset that was certain.
import type { Scalar } from 'yaml';

interface Decoded {
  chars: string[];
  offsets: number[];
}

/**
 * Source offset for every index of `node.value` (plus one past the end), or only for the first
 * `upTo` indexes (plus the next): an error early in a long SQL need not map all of it.
 */
export function scalarSourceOffsets(source: string, node: Scalar, upTo = Infinity): number[] {
  const value = String(node.value);
  const count = Math.min(value.length, upTo);
  const [start, end] = node.range ?? [0, 0];
  const decoded = decode(source, node.type, start, end, count + 1);
  const offsets: number[] = [];
  let last = start;
  let trusted = true;
  for (let i = 0; i < count; i++) {
    trusted &&= decoded.chars[i] === value[i];
    if (trusted) last = decoded.offsets[i] ?? last;
    offsets.push(last);
  }
  offsets.push(trusted ? (decoded.offsets[count] ?? last) : last);
  return offsets;
}

/** Decodes at least `limit` characters (all of them when there are fewer). */
function decode(source: string, type: Scalar['type'], start: number, end: number, limit: number): Decoded {
  switch (type) {
    case 'BLOCK_LITERAL':
      return decodeBlock(source, start, end, false, limit);
    case 'BLOCK_FOLDED':
      return decodeBlock(source, start, end, true, limit);
    case 'QUOTE_DOUBLE':
      return decodeFlow(source, start + 1, end - 1, 'double', limit);
    case 'QUOTE_SINGLE':
      return decodeFlow(source, start + 1, end - 1, 'single', limit);
    default:
      return decodeFlow(source, start, end, 'plain', limit);
  }
}

function decodeBlock(source: string, start: number, end: number, folded: boolean, limit: number): Decoded {
  const out: Decoded = { chars: [], offsets: [] };
  const headerEnd = source.indexOf('\n', start);
  if (headerEnd < 0) return out;
  const lines: Array<{ start: number; end: number }> = [];
  for (let pos = headerEnd + 1; pos < end;) {
    let eol = source.indexOf('\n', pos);
    if (eol < 0 || eol > end) eol = end;
    lines.push({ start: pos, end: source[eol - 1] === '\r' ? eol - 1 : eol });
    pos = eol + 1;
  }
  const text = (l: { start: number; end: number }): string => source.slice(l.start, l.end);
  const firstContent = lines.find((l) => text(l).trim() !== '');
  const indent = firstContent ? text(firstContent).length - text(firstContent).trimStart().length : 0;
  const isNormal = (s: string): boolean => s !== '' && s[0] !== ' ' && s[0] !== '\t';
  for (const [i, line] of lines.entries()) {
    const from = Math.min(line.start + indent, line.end);
    for (let j = from; j < line.end && out.chars.length < limit; j++) push(out, source[j] ?? '', j);
    if (out.chars.length >= limit) break;
    const here = source.slice(from, line.end);
    const nextLine = lines[i + 1];
    const next = nextLine ? source.slice(Math.min(nextLine.start + indent, nextLine.end), nextLine.end) : '';
    if (!folded || !nextLine) push(out, '\n', line.end);
    else if (isNormal(here) && isNormal(next)) push(out, ' ', line.end);
    else if (!(isNormal(here) && next === '')) push(out, '\n', line.end);
  }
  return out;
}

const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  t: '\t',
  '\t': '\t',
  n: '\n',
  v: '\v',
  f: '\f',
  r: '\r',
  e: '\x1b',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  N: '\x85',
  _: '\xa0',
  L: '\u2028',
  P: '\u2029',
};
const HEX_ESCAPE_LENGTH: Record<string, number> = { x: 2, u: 4, U: 8 };

function decodeFlow(
  source: string,
  start: number,
  end: number,
  style: 'double' | 'single' | 'plain',
  limit: number,
): Decoded {
  const out: Decoded = { chars: [], offsets: [] };
  let i = start;
  while (i < end && out.chars.length < limit) {
    const c = source[i] ?? '';
    if (c === '\n' || c === '\r') {
      // Folding: trailing blanks are dropped, one break becomes a space, n breaks become n-1 newlines.
      while (out.chars.length > 0 && (out.chars.at(-1) === ' ' || out.chars.at(-1) === '\t')) {
        out.chars.pop();
        out.offsets.pop();
      }
      let breaks = 0;
      while (i < end && /[ \t\r\n]/.test(source[i] ?? '')) breaks += source[i++] === '\n' ? 1 : 0;
      if (breaks <= 1) push(out, ' ', i - 1);
      else for (let k = 1; k < breaks; k++) push(out, '\n', i - 1);
      continue;
    }
    if (style === 'single' && c === "'" && source[i + 1] === "'") {
      push(out, "'", i);
      i += 2;
      continue;
    }
    if (style === 'double' && c === '\\') {
      const code = source[i + 1] ?? '';
      const hexLength = HEX_ESCAPE_LENGTH[code];
      if (hexLength !== undefined) {
        const text = String.fromCodePoint(parseInt(source.slice(i + 2, i + 2 + hexLength), 16) || 0xfffd);
        for (const unit of text.split('')) push(out, unit, i);
        i += 2 + hexLength;
      } else if (code === '\n' || code === '\r') {
        i += 2;
        while (i < end && /[ \t\r\n]/.test(source[i] ?? '')) i++;
      } else {
        push(out, ESCAPES[code] ?? code, i);
        i += 2;
      }
      continue;
    }
    push(out, c, i);
    i++;
  }
  if (i >= end) push(out, '', end);
  return out;
}

function push(out: Decoded, char: string, offset: number): void {
  out.chars.push(char);
  out.offsets.push(offset);
}
