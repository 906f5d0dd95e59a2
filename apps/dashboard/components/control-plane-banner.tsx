'use client';
// A clear banner when the control plane is away, instead of pages that stay blank or spin.
import useSWR from 'swr';
import { fetcher } from '@/lib/client-api';

export function ControlPlaneBanner() {
  const { data, error } = useSWR<{ up: boolean }>('/api/health', fetcher, {
    refreshInterval: 5000,
    revalidateOnFocus: true,
  });
  if (error || (data && !data.up))
    return (
      <div role="alert" className="banner error" data-testid="cp-down">
        The control plane is not reachable. Data on this page may be stale; the dashboard retries every 5
        seconds.
      </div>
    );
  return null;
}
