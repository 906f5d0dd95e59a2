// A positioned error for a spec the library already accepted, raised by a caller that knows more
// than the library (e.g. the control plane: which sink connections exist). Same shape and
// positions as the compiler's own errors, so clients show both alike.
import type { SpecError } from '../types';
import { formatPath, SpecDocument, type PathSegment } from './spec-document';

export function specErrorAt(text: string, path: readonly PathSegment[], message: string): SpecError {
  const parsed = SpecDocument.parse(text);
  const at = parsed.ok ? parsed.document.locate(path, {}) : { line: 1, column: 1 };
  return { path: formatPath(path), ...at, message };
}
