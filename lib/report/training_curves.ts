/**
 * Training curves of one or more run folders (what mmseg's analyze_logs plots): the training
 * loss and the learning rate at every logged iteration (every `runtime.logInterval`), and the
 * validation mIoU at every evaluation, one colour per run, as one Plotly figure with three
 * stacked panels sharing the iteration axis. `npx offseg plot-log` and the notebooks use it.
 */
import type { Figure } from './figure.ts';
import type { TrainingLog } from './training_log.ts';

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2'];

/** How often each run logged, for the title ("loss logged every 10 iterations"). */
function intervals(logs: readonly TrainingLog[]): string {
  const set = [...new Set(logs.map((l) => l.logInterval).filter((v) => v !== undefined))];
  return set.length ? `loss and lr logged every ${set.join(' / ')} iterations` : '';
}

/**
 * The figure. Runs without any logged point still get a legend entry (named "no points yet").
 * @param title defaults to "Training curves — <run names>".
 */
export function trainingCurvesFigure(logs: readonly TrainingLog[], title?: string): Figure {
  const data: object[] = [];
  logs.forEach((log, i) => {
    const color = COLOURS[i % COLOURS.length];
    const name = log.train.length || log.eval.length ? log.name : `${log.name} (no points yet)`;
    const common = { type: 'scatter', legendgroup: log.name, line: { color }, marker: { color } };
    const markers = (n: number) => (n <= 30 ? 'lines+markers' : 'lines');
    data.push(
      {
        ...common,
        name,
        mode: markers(log.train.length),
        x: log.train.map((p) => p.iteration),
        y: log.train.map((p) => p.loss),
        xaxis: 'x',
        yaxis: 'y',
        hovertemplate: `${log.name}<br>iteration %{x}<br>loss %{y:.4f}<extra></extra>`,
      },
      {
        ...common,
        name,
        showlegend: false,
        mode: markers(log.train.length),
        x: log.train.map((p) => p.iteration),
        y: log.train.map((p) => p.lr),
        xaxis: 'x2',
        yaxis: 'y2',
        hovertemplate: `${log.name}<br>iteration %{x}<br>lr %{y:.3e}<extra></extra>`,
      },
      {
        ...common,
        name,
        showlegend: false,
        mode: 'lines+markers',
        x: log.eval.map((p) => p.iteration),
        y: log.eval.map((p) => p.mIoU),
        xaxis: 'x3',
        yaxis: 'y3',
        hovertemplate: `${log.name}<br>iteration %{x}<br>val mIoU %{y:.2f}<extra></extra>`,
      },
    );
  });
  const every = intervals(logs);
  const text = title ?? `Training curves — ${logs.map((l) => l.name).join(', ')}`;
  const axisX = { title: { text: 'iteration' }, matches: 'x', rangemode: 'tozero' };
  return {
    data,
    layout: {
      title: { text: every ? `${text}<br><sup>${every}</sup>` : text },
      width: 900,
      height: 820,
      grid: { rows: 3, columns: 1, pattern: 'independent', roworder: 'top to bottom' },
      xaxis: { title: { text: 'iteration' }, rangemode: 'tozero' },
      xaxis2: axisX,
      xaxis3: axisX,
      yaxis: { title: { text: 'training loss' } },
      yaxis2: { title: { text: 'learning rate' }, exponentformat: 'e' },
      yaxis3: { title: { text: 'val mIoU (%)' } },
      legend: { orientation: 'h', x: 0, y: -0.08, yanchor: 'top' },
      margin: { t: 90 },
    },
  };
}
