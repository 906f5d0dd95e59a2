// Is the control plane up? The layout's banner polls this (no session needed: it says nothing secret).
import { cpFetch } from '@/lib/control-plane';

export const dynamic = 'force-dynamic';

export async function GET(): Promise<Response> {
  try {
    const res = await cpFetch('/readyz', { timeoutMs: 3000 });
    return Response.json({ up: res.ok, status: res.status });
  } catch {
    return Response.json({ up: false, status: null });
  }
}
