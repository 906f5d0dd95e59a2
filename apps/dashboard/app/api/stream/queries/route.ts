// Server-sent events for the queries page: `fleet` with every row, about once a second (see
// lib/fleet.ts), or `fleet-error` when the control plane refuses or is away.
import { fleetFor } from '@/lib/fleet';
import { currentSession } from '@/lib/session';

export const dynamic = 'force-dynamic';

export async function GET(req: Request): Promise<Response> {
  const session = await currentSession();
  if (!session) return Response.json({ code: 'UNAUTHENTICATED', message: 'log in first' }, { status: 401 });
  const fleet = fleetFor(session.token);
  const enc = new TextEncoder();
  let off = () => {};
  let keepAlive: NodeJS.Timeout | undefined;
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (chunk: string) => {
        try {
          controller.enqueue(enc.encode(chunk));
        } catch {
          close();
        }
      };
      const close = () => {
        off();
        clearInterval(keepAlive);
        try {
          controller.close();
        } catch {
          // already closed
        }
      };
      off = fleet.subscribe((s) =>
        send(`event: ${s.kind === 'ok' ? 'fleet' : 'fleet-error'}\ndata: ${JSON.stringify(s)}\n\n`),
      );
      keepAlive = setInterval(() => send(': keep-alive\n\n'), 15_000);
      req.signal.addEventListener('abort', close);
    },
    cancel() {
      off();
      clearInterval(keepAlive);
    },
  });
  return new Response(stream, {
    headers: {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
    },
  });
}
