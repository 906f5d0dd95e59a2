// Number and time formatting shared by the pages.
const nf = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

export function num(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : nf.format(n);
}

export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return '—';
  if (s < 60) return `${nf.format(s)} s`;
  if (s < 3600) return `${nf.format(s / 60)} min`;
  return `${nf.format(s / 3600)} h`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : d.toISOString().replace('T', ' ').slice(0, 19);
}

/** "1 query", "3 queries". */
export function plural(n: number, one: string, many: string): string {
  return `${nf.format(n)} ${n === 1 ? one : many}`;
}
