'use client';
// A new silence: label matchers (prefilled from an alert) and a duration.
import { useState } from 'react';
import { api, ApiCallError } from '@/lib/client-api';
import type { Alert, Matcher } from './types';

const DURATIONS: [string, number][] = [
  ['30 minutes', 30 * 60],
  ['1 hour', 3600],
  ['4 hours', 4 * 3600],
  ['1 day', 86400],
  ['1 week', 7 * 86400],
];
const MAX_MATCHERS = 20;

export function SilenceForm({ alert, onCreated }: { alert: Alert | null; onCreated: () => void }) {
  const [matchers, setMatchers] = useState<Matcher[]>(
    alert
      ? [
          { name: 'alertname', value: alert.rule, isRegex: false, isEqual: true },
          { name: 'query', value: alert.query, isRegex: false, isEqual: true },
        ]
      : [{ name: 'query', value: '', isRegex: false, isEqual: true }],
  );
  const [seconds, setSeconds] = useState(3600);
  const [comment, setComment] = useState(alert ? `silenced from the dashboard: ${alert.rule}` : '');
  const [error, setError] = useState<string | null>(null);
  const set = (i: number, patch: Partial<Matcher>) =>
    setMatchers((ms) => ms.map((m, j) => (j === i ? { ...m, ...patch } : m)));
  return (
    <section aria-labelledby="silence-h" className="panel" data-testid="silence-form">
      <h2 id="silence-h" style={{ marginTop: 0 }}>
        New silence{alert ? ` for ${alert.rule} on ${alert.query}` : ''}
      </h2>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setError(null);
          try {
            await api('/api/cp/silences', {
              method: 'POST',
              json: { matchers, endsAt: new Date(Date.now() + seconds * 1000).toISOString(), comment },
            });
            onCreated();
          } catch (err) {
            setError(err instanceof ApiCallError ? err.message : String(err));
          }
        }}
      >
        {matchers.map((m, i) => (
          <div key={i} className="actions" style={{ marginBottom: '0.4rem' }}>
            <label>
              Label
              <input
                value={m.name}
                maxLength={64}
                required
                onChange={(e) => set(i, { name: e.target.value })}
              />
            </label>
            <label>
              Operator
              <select
                value={`${m.isEqual ? '' : '!'}${m.isRegex ? '=~' : '='}`}
                onChange={(e) =>
                  set(i, { isEqual: !e.target.value.startsWith('!'), isRegex: e.target.value.endsWith('~') })
                }
              >
                <option value="=">=</option>
                <option value="!=">!=</option>
                <option value="=~">=~</option>
                <option value="!=~">!~</option>
              </select>
            </label>
            <label>
              Value
              <input value={m.value} maxLength={256} onChange={(e) => set(i, { value: e.target.value })} />
            </label>
            {matchers.length > 1 && (
              <button type="button" onClick={() => setMatchers((ms) => ms.filter((_, j) => j !== i))}>
                Remove matcher
              </button>
            )}
          </div>
        ))}
        <div className="actions">
          {matchers.length < MAX_MATCHERS && (
            <button
              type="button"
              onClick={() =>
                setMatchers((ms) => [...ms, { name: '', value: '', isRegex: false, isEqual: true }])
              }
            >
              Add matcher
            </button>
          )}
          <label>
            Duration
            <select value={seconds} onChange={(e) => setSeconds(Number(e.target.value))}>
              {DURATIONS.map(([label, s]) => (
                <option key={s} value={s}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label>
            Comment
            <input value={comment} maxLength={1000} required onChange={(e) => setComment(e.target.value)} />
          </label>
          <button type="submit" className="primary">
            Create silence
          </button>
        </div>
        {error && (
          <p role="alert" style={{ color: 'var(--danger)' }}>
            {error}
          </p>
        )}
      </form>
    </section>
  );
}
