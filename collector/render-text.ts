import { formatCount, formatPoints, formatRate, formatRatio } from './format';
import type { Report } from './report';
import { renderForwardingText } from './forward/report-section';

const VERDICT_LABEL = { more: 'more conversion', less: 'less conversion', unclear: 'not enough data yet' } as const;

/**
 * The report as plain text for a terminal: the signals table, each verdict in words, the funnel.
 * Same numbers as the HTML page and the JSON.
 */
export function renderReportText(report: Report): string {
  const lines: string[] = [];
  lines.push(`microconv report, ${report.generated_at}`);
  lines.push(
    `${formatCount(report.sessions)} sessions, ${formatCount(report.converted)} converted (${formatRate(report.conversion_rate?.estimate)}` +
      (report.conversion_rate ? `, 95 % interval ${formatRate(report.conversion_rate.low)} to ${formatRate(report.conversion_rate.high)}` : '') +
      `); macro conversion: ${report.macro.join(', ')}`,
  );
  lines.push('', wrap(report.note), wrap(report.rule), '');

  lines.push('Does the micro-conversion predict the macro conversion? (association, not cause)');
  lines.push(
    table(
      ['signal', 'stage', 'sessions with', 'conv. with', 'conv. without', 'lift, points [anytime]', 'verdict', 'lift [one look only]', 'ratio [one look only]'],
      report.signals.map((s) => [
        s.signal,
        s.stage ?? '(not in plan)',
        formatCount(s.sessions_with),
        formatRate(s.rate_with?.estimate),
        formatRate(s.rate_without?.estimate),
        s.difference ? `${formatPoints(s.difference.estimate)} [${formatPoints(s.difference.low)}, ${formatPoints(s.difference.high)}]` : '–',
        VERDICT_LABEL[s.verdict],
        s.difference_fixed_horizon ? `[${formatPoints(s.difference_fixed_horizon.low)}, ${formatPoints(s.difference_fixed_horizon.high)}]` : '–',
        s.ratio ? `${formatRatio(s.ratio.estimate)} [${formatRatio(s.ratio.low)}, ${formatRatio(s.ratio.high)}]${s.ratio.corrected ? '*' : ''}` : '–',
      ]),
      [2, 3, 4, 5, 7, 8],
    ),
  );
  lines.push(
    wrap(
      `anytime: the lift's anytime-valid interval at ${formatRate(1 - report.error_control.per_signal_alpha)} per signal, valid however often this is read; ` +
        'the verdict follows it. one look only: the fixed-horizon 95 % intervals (Newcombe; Katz for the ratio), valid for one pre-planned look only.',
    ),
  );
  if (report.signals.some((s) => s.ratio?.corrected)) lines.push('* a group had no conversions: 0.5 added to every cell for the ratio');
  if (report.signals.length === 0) lines.push('(no events yet)');
  lines.push('');
  for (const s of report.signals) lines.push(wrap(`${s.signal}: ${s.verdict_text}.`, '  '));
  if (report.multiple_comparisons) lines.push('', wrap(report.multiple_comparisons));
  lines.push('', wrap(report.intervals));

  lines.push('', 'Funnel');
  lines.push(
    table(
      ['step', 'sessions', 'of all', 'drop-off from previous'],
      report.funnel.steps.map((step) => [step.step, formatCount(step.sessions), formatRate(step.share), step.drop_off === null ? '' : formatRate(step.drop_off)]),
      [1, 2, 3],
    ),
  );
  const weakest = report.funnel.weakest;
  if (weakest) lines.push(`Weakest step: ${weakest.from} → ${weakest.to}, ${formatRate(weakest.drop_off)} of sessions lost.`);
  lines.push(wrap(report.funnel.rule));
  if (report.forwarding) lines.push('', renderForwardingText(report.forwarding).trimEnd());
  return lines.join('\n') + '\n';
}

/** A plain table with padded columns; `right` lists the columns aligned right (numbers). */
function table(head: string[], rows: string[][], right: number[]): string {
  const widths = head.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    cells.map((cell, column) => (right.includes(column) ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join('  ').trimEnd();
  return [line(head), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** Wraps prose at 100 columns. */
function wrap(text: string, indent = ''): string {
  const out: string[] = [];
  let current = '';
  for (const word of text.split(/\s+/)) {
    if (current && current.length + word.length + 1 > 100) {
      out.push(current);
      current = indent + word;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) out.push(current);
  return out.join('\n');
}
