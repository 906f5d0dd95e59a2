'use client';
import useSWR from 'swr';
import { Loaded } from '@/components/states';
import { fetcher } from '@/lib/client-api';
import { inputsText } from '@/lib/decision-inputs';
import { when } from '@/lib/format';
import type { ScalingEvent } from './types';

export function ScalingPanel({ id }: { id: string }) {
  const events = useSWR<ScalingEvent[]>(`/api/cp/queries/${id}/scaling-events?limit=20`, fetcher, {
    refreshInterval: 10_000,
  });
  return (
    <section aria-labelledby="scaling-h">
      <h2 id="scaling-h">Scaling decisions</h2>
      <Loaded
        result={events}
        what="scaling events"
        empty="The scaling loop has not decided anything for this query yet."
      >
        {(list) => (
          <table data-testid="scaling-events">
            <thead>
              <tr>
                <th scope="col">At</th>
                <th scope="col">Policy</th>
                <th scope="col">Decision</th>
                <th scope="col">Reason</th>
                <th scope="col">Inputs</th>
              </tr>
            </thead>
            <tbody>
              {list.map((e) => (
                <tr
                  key={e.id}
                  data-direction={e.direction}
                  data-from={e.fromInstances}
                  data-to={e.toInstances}
                  data-acted={String(e.acted)}
                >
                  <td>{when(e.at)}</td>
                  <td>
                    {e.policy} ({e.mode})
                  </td>
                  <td>
                    {e.direction} {e.fromInstances}→{e.toInstances}
                    {e.rateLimit !== null ? `, rate limit ${e.rateLimit}` : ''}
                    {e.acted ? '' : ' (not acted on)'}
                  </td>
                  <td data-testid="reason">{e.reason}</td>
                  <td data-testid="inputs">
                    <code style={{ fontSize: 11, wordBreak: 'break-all' }}>{inputsText(e.inputs)}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
    </section>
  );
}
