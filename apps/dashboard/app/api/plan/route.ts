// Compiled plan preview for the deploy page: the spec compiled by @sluice/query-plan, the very
// compiler the API and the engine use, so the preview is the plan the API would store. Nothing is
// registered; errors carry the same line and column the API's 422 would.
import { compileSpec } from '@sluice/query-plan';
import { csrfRejection, forbidden } from '@/lib/csrf';
import { currentSession } from '@/lib/session';

const MAX_SPEC_BYTES = 256 * 1024;

export async function POST(req: Request): Promise<Response> {
  if (!(await currentSession()))
    return Response.json({ code: 'UNAUTHENTICATED', message: 'log in first' }, { status: 401 });
  const rejected = csrfRejection(req);
  if (rejected) return forbidden(rejected);
  const text = await req.text();
  if (Buffer.byteLength(text) > MAX_SPEC_BYTES)
    return Response.json({ code: 'PAYLOAD_TOO_LARGE', message: 'spec over 256 KiB' }, { status: 413 });
  const result = compileSpec(text, 'spec');
  if (!result.ok)
    return Response.json({
      ok: false,
      errors: result.errors.map((e) => ({
        path: e.path,
        line: e.line,
        column: e.column,
        message: e.message,
      })),
    });
  return Response.json({
    ok: true,
    plan: result.plan,
    planHash: result.planHash,
    warnings: result.warnings,
    trigger: result.spec.trigger,
  });
}
