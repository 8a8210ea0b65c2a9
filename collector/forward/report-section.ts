import type { Purpose } from '../../src/types';
import { formatCount } from '../format';
import type { Report } from '../report';
import type { Destination } from './destination';
import type { GateDecision } from './gate';
import type { OutboxCounts } from './outbox';
import type { DestinationName, SendRule } from './types';

/** The report's `forwarding` section: where each signal goes and why, and how each destination is doing. */
export interface ForwardingReport {
  /** When the gate last read the verdicts (ISO 8601). */
  gate_read_at: string;
  rule: string;
  destinations: Array<
    OutboxCounts & {
      /** `live`, `test` (the platform's test mode), `file` (Google Ads upload file), or `dry_run` (printed, not sent). */
      mode: 'live' | 'test' | 'file' | 'dry_run';
      send: SendRule;
      /** The consent purposes an event needs to go there. */
      consent: Purpose[];
    }
  >;
  signals: Array<{ signal: string; macro: boolean; forwarding: Array<{ destination: DestinationName; forwarded: boolean; why: string }> }>;
  /** Identifiers left out on receipt (unusable phone numbers, ...), by reason. */
  identifiers_dropped: Record<string, number>;
}

export const FORWARDING_RULE =
  'By default a destination gets the macro conversions and the micro-conversions the report finds associated with more ' +
  'conversion, from the moment it does so (earlier events are not sent afterwards); send: "all" or a list of names overrides ' +
  'this per destination. An event goes only with the consent its destination needs, recorded when it was tracked, at most once ' +
  'per destination, under its browser event_id.';

export const DESTINATION_LABEL: Record<DestinationName, string> = { meta: 'Meta Conversions API', google_ads: 'Google Ads', ga4: 'GA4 Measurement Protocol' };

export function forwardingSection(
  report: Pick<Report, 'macro' | 'signals'>,
  destinations: ReadonlyMap<DestinationName, Destination>,
  decisions: ReadonlyMap<DestinationName, (name: string) => GateDecision>,
  counts: readonly OutboxCounts[],
  context: { dryRun: boolean; readAt: number; identifierDrops: Record<string, number> },
): ForwardingReport {
  const names = [...report.macro, ...report.signals.map((signal) => signal.signal).filter((name) => !report.macro.includes(name))];
  return {
    gate_read_at: new Date(context.readAt).toISOString(),
    rule: FORWARDING_RULE,
    destinations: [...destinations.values()].map((destination) => ({
      ...counts.find((count) => count.destination === destination.name)!,
      mode: context.dryRun ? 'dry_run' : destination.mode,
      send: destination.send,
      consent: [...destination.purposes],
    })),
    signals: names.map((signal) => ({
      signal,
      macro: report.macro.includes(signal),
      forwarding: [...destinations.keys()].map((destination) => ({ destination, ...decisions.get(destination)!(signal) })),
    })),
    identifiers_dropped: { ...context.identifierDrops },
  };
}

const esc = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** The section as HTML for the report page (no script; every value escaped). */
export function renderForwardingHtml(section: ForwardingReport): string {
  const head = section.destinations.map((d) => `<th>${esc(DESTINATION_LABEL[d.destination])}<br><span class="muted">${esc(d.mode)}</span></th>`).join('');
  const rows = section.signals.map(
    (s) =>
      `<tr><td><strong>${esc(s.signal)}</strong>${s.macro ? '<br><span class="muted">macro conversion</span>' : ''}</td>${s.forwarding
        .map((f) => `<td class="${f.forwarded ? 'more' : 'unclear'}">${f.forwarded ? 'forwarded' : 'not forwarded'}<br><span class="muted">${esc(f.why)}</span></td>`)
        .join('')}</tr>`,
  );
  const status = section.destinations.map(
    (d) => `<tr><td>${esc(DESTINATION_LABEL[d.destination])}</td><td class="n">${formatCount(d.sent + d.tested)}</td><td class="n">${formatCount(d.queued)}</td><td class="n">${formatCount(
      d.retrying,
    )}</td><td class="n">${formatCount(d.failed)}</td><td class="n">${formatCount(d.skipped)}</td><td>${esc(reasonsLine(d))}</td></tr>`,
  );
  return `<h2>Server-side forwarding</h2>
<p>${esc(section.rule)} Verdicts read ${esc(section.gate_read_at)}.</p>
<table>
<thead><tr><th>signal</th>${head}</tr></thead>
<tbody>
${rows.join('\n')}
</tbody>
</table>
<table>
<thead><tr><th>destination</th><th class="n">sent</th><th class="n">queued</th><th class="n">retrying</th><th class="n">failed</th><th class="n">skipped</th><th>why</th></tr></thead>
<tbody>
${status.join('\n')}
</tbody>
</table>`;
}

/** Per destination, as lines for a terminal (`npm run forward -- status`, the text report). */
export function renderForwardingText(section: ForwardingReport): string {
  const lines = ['Server-side forwarding'];
  for (const d of section.destinations) {
    lines.push(
      `  ${DESTINATION_LABEL[d.destination]} (${d.mode}, needs ${d.consent.join(' + ')}): sent ${formatCount(d.sent)}${d.tested ? `, tested ${formatCount(d.tested)}` : ''}` +
        `${d.file ? `, in the upload file ${formatCount(d.file)}` : ''}${d.dry_run ? `, dry run ${formatCount(d.dry_run)}` : ''}, queued ${formatCount(d.queued)}, ` +
        `retrying ${formatCount(d.retrying)}, failed ${formatCount(d.failed)}, skipped ${formatCount(d.skipped)}`,
    );
    for (const r of d.retry_reasons) lines.push(`    retrying ${formatCount(r.count)}: ${r.reason}`);
    for (const r of d.failures) lines.push(`    failed ${formatCount(r.count)}: ${r.reason}`);
    for (const r of d.skips) lines.push(`    skipped ${formatCount(r.count)}: ${r.reason}`);
  }
  lines.push('  Signals:');
  for (const s of section.signals) {
    const where = s.forwarding.map((f) => `${f.destination} ${f.forwarded ? 'yes' : 'no'} (${f.why})`).join('; ');
    lines.push(`    ${s.signal}: ${where}`);
  }
  const drops = Object.entries(section.identifiers_dropped);
  if (drops.length) lines.push(`  Identifiers left out on receipt: ${drops.map(([reason, count]) => `${reason} ${count}`).join(', ')}`);
  return `${lines.join('\n')}\n`;
}

function reasonsLine(d: ForwardingReport['destinations'][number]): string {
  return [
    ...d.retry_reasons.map((r) => `retrying ${r.count}: ${r.reason}`),
    ...d.failures.map((r) => `failed ${r.count}: ${r.reason}`),
    ...d.skips.map((r) => `skipped ${r.count}: ${r.reason}`),
  ].join(' · ');
}
