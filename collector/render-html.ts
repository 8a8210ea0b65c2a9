import { formatCount, formatPoints, formatRate, formatRatio } from './format';
import type { FunnelReport, Report, SignalReport } from './report';
import { renderForwardingHtml } from './forward/report-section';

/** Escapes text for HTML content and attribute values: every piece of data goes through here. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}
const esc = escapeHtml;

const COLOUR = { more: '#1d6fb8', less: '#c2410c', unclear: '#6b7280' } as const;

/**
 * The report as one self-contained HTML page: no script, no external file, charts as inline SVG,
 * every piece of data escaped text. Safe to serve under `default-src 'none'; style-src 'unsafe-inline'`.
 */
export function renderReportHtml(report: Report): string {
  const rate = report.conversion_rate;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>microconv report</title>
<style>
  body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1f2937; margin: 0 auto; padding: 24px; max-width: 1000px; }
  h1 { font-size: 1.5em; margin: 0 0 4px; } h2 { font-size: 1.2em; margin: 32px 0 8px; }
  .note { background: #fff7e6; border-left: 4px solid #d97706; padding: 8px 12px; }
  .muted { color: #6b7280; }
  table { border-collapse: collapse; width: 100%; font-size: 0.85em; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #e5e7eb; vertical-align: top; }
  td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
  td.n { white-space: nowrap; } th.verdict { min-width: 150px; }
  svg { max-width: 100%; height: auto; font: 13px system-ui, sans-serif; }
  .more { color: ${COLOUR.more}; } .less { color: ${COLOUR.less}; } .unclear { color: ${COLOUR.unclear}; }
</style>
</head>
<body>
<h1>Micro-conversions and the macro conversion</h1>
<p class="muted">Generated ${esc(report.generated_at)}. ${esc(formatCount(report.sessions))} sessions,
${esc(formatCount(report.converted))} converted (${esc(formatRate(rate?.estimate))}${
    rate ? `, 95 % interval ${esc(formatRate(rate.low))} to ${esc(formatRate(rate.high))}` : ''
  }). Macro conversion: ${esc(report.macro.join(', '))}.</p>
<p class="note"><strong>Association, not cause.</strong> ${esc(capitalise(report.note.replace(/^This is association, not cause: /, '')))}</p>
<p>${esc(report.rule)}</p>

<h2>Lift: conversion rate with the signal minus without it</h2>
${liftChart(report.signals)}
<p class="muted">Dots: the difference in conversion rate, in percentage points. Thick bars: its anytime-valid interval
(${esc(formatRate(1 - report.error_control.per_signal_alpha))} per signal), which the verdict follows: valid however often this page is read.
Thin grey bars: the fixed-horizon 95 % interval (Newcombe), valid for one pre-planned look only.
A thick bar that crosses the zero line means the data cannot yet tell.</p>
<p>${esc(report.error_control.statement)}</p>
${signalTable(report.signals)}
<p class="muted">${esc(report.intervals)}</p>

<h2>Funnel</h2>
${funnelChart(report.funnel)}
${
  report.funnel.weakest
    ? `<p><strong>Weakest step:</strong> ${esc(report.funnel.weakest.from)} → ${esc(report.funnel.weakest.to)}, ${esc(formatRate(report.funnel.weakest.drop_off))} of sessions lost.</p>`
    : ''
}
<p class="muted">${esc(report.funnel.rule)}</p>
${report.forwarding ? renderForwardingHtml(report.forwarding) : ''}
</body>
</html>
`;
}

const capitalise = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

/** A forest plot of each signal's difference: the anytime-valid interval as the bar, the fixed-horizon one thin beneath it. */
function liftChart(signals: SignalReport[]): string {
  if (signals.length === 0) return '<p>No events yet.</p>';
  const rowHeight = 38;
  const [labelWidth, plotWidth, valueWidth] = [190, 440, 230];
  const width = labelWidth + plotWidth + valueWidth;
  const top = 10;
  const height = top + signals.length * rowHeight + 34;
  const bounds = signals.flatMap((s) => [s.difference, s.difference_fixed_horizon].flatMap((d) => (d ? [d.low, d.high] : [])));
  const extent = Math.max(0.01, ...bounds.map(Math.abs));
  const step = tickStep(extent);
  const limit = Math.ceil(extent / step) * step;
  const x = (value: number) => labelWidth + ((value + limit) / (2 * limit)) * plotWidth;
  const ticks: number[] = [];
  for (let value = -limit; value <= limit + step / 2; value += step) ticks.push(Math.round(value / step) * step);
  const axisY = top + signals.length * rowHeight + 6;
  const rows = signals.map((s, index) => liftRow(s, top + index * rowHeight + rowHeight / 2 - 4, x, labelWidth + plotWidth + 10, labelWidth));
  const grid = ticks.map(
    (value) =>
      `<line x1="${x(value).toFixed(1)}" x2="${x(value).toFixed(1)}" y1="${top}" y2="${axisY}" stroke="${value === 0 ? '#111827' : '#e5e7eb'}"${
        value === 0 ? ' stroke-dasharray="4 3"' : ''
      }/>` + `<text x="${x(value).toFixed(1)}" y="${axisY + 16}" text-anchor="middle" fill="#6b7280">${esc(formatPoints(value))}</text>`,
  );
  return `<svg role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-labelledby="lift-title">
<title id="lift-title">Difference in conversion rate, with and without each signal, in percentage points: anytime-valid intervals, and beneath them the fixed-horizon 95 % intervals valid for one pre-planned look only</title>
${grid.join('\n')}
${rows.join('\n')}
<text x="${labelWidth + plotWidth / 2}" y="${height - 2}" text-anchor="middle" fill="#6b7280">percentage points</text>
</svg>`;
}

const FIXED_COLOUR = '#9ca3af';

/** One signal's row of the forest plot: label, anytime-valid bar and dot, fixed-horizon bar, the numbers. */
function liftRow(s: SignalReport, y: number, x: (value: number) => number, valueX: number, labelWidth: number): string {
  const colour = COLOUR[s.verdict];
  const label = `<text x="${labelWidth - 10}" y="${y + 4}" text-anchor="end">${esc(s.signal)}</text>`;
  const d = s.difference;
  if (!d) return `${label}<text x="${labelWidth + 8}" y="${y + 4}" fill="${COLOUR.unclear}">no comparison possible</text>`;
  const fixed = s.difference_fixed_horizon;
  const fixedBar = fixed
    ? `<line x1="${x(fixed.low).toFixed(1)}" x2="${x(fixed.high).toFixed(1)}" y1="${y + 9}" y2="${y + 9}" stroke="${FIXED_COLOUR}" stroke-width="1.5"/>` +
      [fixed.low, fixed.high].map((end) => `<line x1="${x(end).toFixed(1)}" x2="${x(end).toFixed(1)}" y1="${y + 6}" y2="${y + 12}" stroke="${FIXED_COLOUR}" stroke-width="1.5"/>`).join('')
    : '';
  return (
    `${label}<line x1="${x(d.low).toFixed(1)}" x2="${x(d.high).toFixed(1)}" y1="${y}" y2="${y}" stroke="${colour}" stroke-width="3"/>` +
    `<circle cx="${x(d.estimate).toFixed(1)}" cy="${y}" r="5" fill="${colour}"/>` +
    fixedBar +
    `<text x="${valueX}" y="${y + 4}" fill="${colour}">${esc(`${formatPoints(d.estimate)} [${formatPoints(d.low)}, ${formatPoints(d.high)}]`)}</text>` +
    (fixed ? `<text x="${valueX}" y="${y + 18}" fill="#6b7280" font-size="11">${esc(`one look only: [${formatPoints(fixed.low)}, ${formatPoints(fixed.high)}]`)}</text>` : '')
  );
}

/** A round tick step giving about four ticks on each side of zero. */
function tickStep(extent: number): number {
  const raw = extent / 4;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((candidate) => candidate >= raw)!;
  return step;
}

function signalTable(signals: SignalReport[]): string {
  if (signals.length === 0) return '';
  const rows = signals.map(
    (s) => `<tr>
  <td><strong>${esc(s.signal)}</strong><br><span class="muted">${esc(s.stage ?? 'not in the plan')}</span></td>
  <td class="n">${esc(formatCount(s.sessions_with))}</td>
  <td class="n">${esc(rateCell(s.rate_with))}</td>
  <td class="n">${esc(rateCell(s.rate_without))}</td>
  <td class="n">${esc(s.difference ? `${formatPoints(s.difference.estimate)} [${formatPoints(s.difference.low)}, ${formatPoints(s.difference.high)}]` : '–')}${
    s.difference_fixed_horizon
      ? `<br><span class="muted">${esc(`one look only: [${formatPoints(s.difference_fixed_horizon.low)}, ${formatPoints(s.difference_fixed_horizon.high)}]`)}</span>`
      : ''
  }</td>
  <td class="n">${esc(s.ratio ? `${formatRatio(s.ratio.estimate)} [${formatRatio(s.ratio.low)}, ${formatRatio(s.ratio.high)}]${s.ratio.corrected ? '*' : ''}` : '–')}</td>
  <td>${verdictCell(s)}</td>
</tr>`,
  );
  return `<table>
<thead><tr><th>signal</th><th class="n">sessions with it</th><th class="n">conversion with [95 %]</th><th class="n">without [95 %]</th><th class="n">lift, points [anytime-valid]; [95 %, one pre-planned look only]</th><th class="n">ratio [95 %, one look only]</th><th class="verdict">verdict</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
${signals.some((s) => s.ratio?.corrected) ? '<p class="muted">* a group had no conversions: 0.5 was added to every cell for the ratio (Katz log interval).</p>' : ''}`;
}

/** The verdict sentence, its first clause (the verdict itself) in the verdict's colour. */
function verdictCell(s: SignalReport): string {
  const split = s.verdict_text.indexOf(': ');
  const head = split < 0 ? s.verdict_text : s.verdict_text.slice(0, split);
  const rest = split < 0 ? '' : s.verdict_text.slice(split + 2);
  return `<strong class="${s.verdict}">${esc(head)}</strong>${rest ? `<br><span class="muted">${esc(rest)}</span>` : ''}`;
}

function rateCell(rate: SignalReport['rate_with']): string {
  return rate ? `${formatRate(rate.estimate)} [${formatRate(rate.low)}, ${formatRate(rate.high)}]` : '–';
}

/** Horizontal bars, one per funnel step, scaled to all sessions, with the drop-off between steps. */
function funnelChart(funnel: FunnelReport): string {
  const steps = funnel.steps;
  const rowHeight = 44;
  const [labelWidth, barWidth, valueWidth] = [170, 500, 190];
  const width = labelWidth + barWidth + valueWidth;
  const height = steps.length * rowHeight + 8;
  const max = Math.max(1, ...steps.map((step) => step.sessions));
  const weakestTo = funnel.weakest?.to;
  const rows = steps.map((step, index) => {
    const y = 4 + index * rowHeight;
    const w = Math.max(1, (step.sessions / max) * barWidth);
    const fill = step.kind === 'macro' ? '#15803d' : step.step === weakestTo ? COLOUR.less : '#60a5fa';
    const dropOff =
      step.drop_off === null || step.kind === 'all'
        ? ''
        : step.drop_off > 0
          ? `${formatRate(step.drop_off)} lost from the step before${step.step === weakestTo ? ' (weakest step)' : ''}`
          : 'none lost from the step before';
    return (
      `<text x="${labelWidth - 10}" y="${y + 17}" text-anchor="end">${esc(step.step)}</text>` +
      `<rect x="${labelWidth}" y="${y + 4}" width="${w.toFixed(1)}" height="18" fill="${fill}" rx="2"/>` +
      `<text x="${labelWidth + barWidth + 10}" y="${y + 17}">${esc(`${formatCount(step.sessions)} (${formatRate(step.share)})`)}</text>` +
      (dropOff ? `<text x="${labelWidth}" y="${y + 37}" fill="${step.step === weakestTo ? COLOUR.less : '#6b7280'}">${esc(dropOff)}</text>` : '')
    );
  });
  return `<svg role="img" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" aria-labelledby="funnel-title">
<title id="funnel-title">Sessions reaching each stage of the plan, and the macro conversion</title>
${rows.join('\n')}
</svg>`;
}
