// Reads a server-sent event stream (GET /api/v1/queries/:id/events) with eventsource-parser,
// handing each event's name and parsed JSON data to `onEvent` until the stream ends or `signal`
// aborts (Ctrl-C). The control plane's events carry JSON in `data`.
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { CliError } from '../exit-codes';
import type { ApiClient } from './client';

export interface StreamEvent {
  event: string;
  data: unknown;
}

export async function streamEvents(
  client: ApiClient,
  path: string,
  signal: AbortSignal,
  onEvent: (e: StreamEvent) => void,
): Promise<void> {
  let res: Response;
  try {
    res = await client.open(path, signal);
  } catch (e) {
    if (signal.aborted) return;
    throw e;
  }
  const parser = createParser({
    onEvent(msg: EventSourceMessage) {
      let data: unknown = msg.data;
      try {
        data = JSON.parse(msg.data);
      } catch {
        // not JSON: hand over the text
      }
      onEvent({ event: msg.event ?? 'message', data });
    },
  });
  const decoder = new TextDecoder();
  const reader = res.body?.getReader();
  if (!reader) return;
  // The user stopped following (Ctrl-C): a cancel that fails means the stream ended already, and
  // the command is leaving either way; there is nobody to tell.
  const cancel = () => void reader.cancel().catch(() => undefined);
  signal.addEventListener('abort', cancel, { once: true });
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } catch (e) {
    if (!signal.aborted) throw new CliError(`the event stream broke off: ${(e as Error).message}`);
  } finally {
    signal.removeEventListener('abort', cancel);
  }
  if (!signal.aborted) throw new CliError('the control plane closed the event stream');
}
