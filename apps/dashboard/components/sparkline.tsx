// A lag sparkline: an SVG polyline. 500 rows of chart-library canvases would cost more than the
// whole page budget; the full charts (query detail) use uPlot.
import { memo } from 'react';

export const Sparkline = memo(function Sparkline({ values, label }: { values: number[]; label: string }) {
  if (values.length < 2) return <span className="muted">—</span>;
  const w = 80;
  const h = 18;
  const max = Math.max(...values, 1);
  const step = w / (values.length - 1);
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(h - (v / max) * h).toFixed(1)}`).join(' ');
  return (
    <svg width={w} height={h} role="img" aria-label={label}>
      <polyline points={points} fill="none" stroke="#0b5cad" strokeWidth="1.5" />
    </svg>
  );
});
