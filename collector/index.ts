/**
 * The Node side of microconv: the reference collector, its store, the report and the simulator.
 * `import { createCollector } from '../collector'` from a server that mounts it (the demo does).
 */
export { createCollector, startCollector, MAX_BODY_BYTES, MAX_EVENTS } from './http';
export type { Collector, CollectorOptions, RunningCollector } from './http';
export type { EventStore, SignalQuery, SignalCounts, FunnelQuery, FunnelCounts } from './store';
export { openDuckDBStore, DEFAULT_DATABASE } from './duckdb-store';
export type { DuckDBStore } from './duckdb-store';
export { validatePayload } from './validate';
export { checkPlan, loadPlan, PlanError } from './plan';
export type { ReportPlan } from './plan';
export { buildReport, ASSOCIATION_NOTE, COUNTING_RULE } from './report';
export type { Report, SignalReport, FunnelReport, FunnelStep } from './report';
export { renderReportHtml } from './render-html';
export { renderReportText } from './render-text';
export { compare, wilson, newcombeDifference, katzRatio, sessionsForPower } from './stats';
export { DEFAULT_RATE_LIMIT } from './rate-limit';
export type { RateLimit } from './rate-limit';
export { sendTraffic } from './send-traffic';
export { DEMO_MODEL, exactTruth, generateTraffic, modelPlan } from './simulate';
export { createForwarder } from './forward/forwarder';
export type { Forwarder } from './forward/forwarder';
export { openDuckDBOutbox } from './forward/duckdb-outbox';
export type { ForwardOutbox, OutboxCounts, OutboxStatus } from './forward/outbox';
export { hashIdentifiers, protectIdentifiers } from './forward/hash';
export type { IdentifierOptions } from './forward/hash';
export { loadForwardConfig } from './forward/config';
export type { ForwardOptions, MetaForwardOptions, GoogleAdsForwardOptions, Ga4ForwardOptions, ForwardableEvent, SendRule } from './forward/types';
export type { ForwardingReport } from './forward/report-section';
