import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { ApiCallError } from '@/lib/client-api';
import { Loaded } from './states';

const show = (result: { data?: string[]; error?: unknown }, empty?: string) =>
  renderToStaticMarkup(
    createElement(Loaded<string[]>, { result, what: 'tokens', empty, children: (list) => list.join('+') }),
  );

describe('Loaded', () => {
  it('shows the error, with the words a user can act on for an unreachable control plane or a 403', () => {
    expect(show({ error: new Error('boom') })).toBe(
      '<div class="state error" role="alert">Could not load tokens: boom</div>',
    );
    expect(show({ error: new ApiCallError(503, 'CONTROL_PLANE_UNREACHABLE', 'x') })).toContain(
      'the control plane is not reachable',
    );
    expect(show({ error: new ApiCallError(403, 'FORBIDDEN', 'x'), data: ['a'] })).toContain(
      'your token’s role may not see this',
    );
  });

  it('shows loading until there is data, the empty text for an empty list, else the data', () => {
    expect(show({})).toBe('<div class="state" role="status" aria-live="polite">Loading tokens…</div>');
    expect(show({ data: [] }, 'No tokens.')).toBe('<div class="state">No tokens.</div>');
    expect(show({ data: [] })).toBe('');
    expect(show({ data: ['a', 'b'] }, 'No tokens.')).toBe('a+b');
  });
});
