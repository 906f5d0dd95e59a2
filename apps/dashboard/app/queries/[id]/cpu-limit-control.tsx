'use client';
// The query's CPU limit per engine instance (POST /scaling { cpuLimit }): shown, set or removed.
// The bounds are the contracts' (the API validates with the same); the API's 400 names the field.
import { useState } from 'react';
import useSWR from 'swr';
// The dependency-free bounds module alone, not the library's index (which loads zod).
import { cpuLimitProblem, MAX_CPU_LIMIT, MIN_CPU_LIMIT } from '@sluice/contracts/src/cpu-limit';
import { ConfirmButton } from '@/components/confirm-button';
import { api, fetcher } from '@/lib/client-api';

export function CpuLimitControl({
  id,
  name,
  run,
}: {
  id: string;
  name: string;
  run: (what: string, fn: () => Promise<unknown>) => Promise<void>;
}) {
  const settings = useSWR<{ cpuLimit: number | null }>(`/api/cp/queries/${id}/scaling`, fetcher);
  const current = settings.data?.cpuLimit ?? null;
  const [text, setText] = useState<string | null>(null);
  const shown = text ?? (current === null ? '' : String(current));
  const cores = shown.trim() === '' ? null : Number(shown);
  const problem = cores === null ? null : cpuLimitProblem(cores);
  return (
    <>
      <label>
        CPU limit per instance (cores; empty: none)
        <input
          type="number"
          name="cpuLimit"
          min={MIN_CPU_LIMIT}
          max={MAX_CPU_LIMIT}
          step="any"
          value={shown}
          onChange={(e) => setText(e.target.value)}
          aria-invalid={problem !== null}
          style={{ width: '6rem' }}
        />
      </label>
      {problem && (
        <span role="alert" data-testid="cpu-limit-problem" style={{ color: 'var(--danger)' }}>
          {problem}
        </span>
      )}
      <ConfirmButton
        label="Set CPU limit"
        title={`CPU limit of ${name}`}
        description={
          cores === null
            ? `Remove the CPU limit of ${name}'s instances (now ${current ?? 'none'}).`
            : `Limit each instance of ${name} to ${cores} core(s) (now ${current ?? 'none'}). Running instances get it in place where the runtime can; the instances table says whether it applied.`
        }
        confirmLabel="Apply"
        disabled={problem !== null || !settings.data}
        onConfirm={() =>
          run('CPU limit', async () => {
            await api(`/api/cp/queries/${id}/scaling`, { method: 'POST', json: { cpuLimit: cores } });
            setText(null);
            await settings.mutate();
          })
        }
      />
    </>
  );
}
