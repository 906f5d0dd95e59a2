'use client';
// A time-series chart: uPlot (canvas, ~20 kB gzipped) in a React wrapper that resizes with its box.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

const COLOURS = ['#0b5cad', '#c2410c', '#1a7f37', '#7c3aed', '#b42318', '#0e7490', '#a16207', '#be185d'];

export interface ChartSeries {
  label: string;
  /** One value per x; null leaves a gap. */
  values: (number | null)[];
  dash?: boolean;
  stepped?: boolean;
  /** A second y axis on the right, for a series of another magnitude. */
  right?: boolean;
}

export function TimeChart(props: {
  title: string;
  /** Unix seconds. */
  x: number[];
  series: ChartSeries[];
  yLabel: string;
  testId?: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = props.series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height: 200,
      legend: { show: true },
      scales: { x: { time: true } },
      axes: [
        {},
        { label: props.yLabel, size: 60 },
        ...(props.series.some((s) => s.right)
          ? [{ scale: 'right', side: 1, size: 60, grid: { show: false } }]
          : []),
      ],
      series: [
        {},
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          width: 1.5,
          ...(s.dash ? { dash: [6, 4] } : {}),
          ...(s.right ? { scale: 'right' } : {}),
          ...(s.stepped ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
        })),
      ],
    };
    const p = new uPlot(opts, [[], ...props.series.map(() => [])] as uPlot.AlignedData, el);
    plot.current = p;
    const ro = new ResizeObserver(() => p.setSize({ width: Math.max(300, el.clientWidth), height: 200 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      p.destroy();
      plot.current = null;
    };
    // The chart is rebuilt only when its series change; data updates go through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, props.yLabel]);

  useEffect(() => {
    plot.current?.setData([props.x, ...props.series.map((s) => s.values)] as uPlot.AlignedData);
  }, [props.x, props.series]);

  // What the chart draws, readable by tests and tools without decoding the canvas: the number of
  // points and each series' newest value.
  const last = props.series.map((s) => s.values.filter((v) => v !== null).at(-1) ?? null);
  return (
    <figure
      className="panel"
      style={{ margin: 0 }}
      data-testid={props.testId}
      data-points={props.x.length}
      data-last={JSON.stringify(last)}
    >
      <figcaption>
        <strong>{props.title}</strong>
        {props.x.length === 0 && <span className="muted"> · no data yet</span>}
      </figcaption>
      <div ref={box} className="chart" role="img" aria-label={`${props.title} chart`} />
    </figure>
  );
}
