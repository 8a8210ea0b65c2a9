/**
 * The Node side of microconv: the reference collector, its store, the report and the simulator.
 * `import { createCollector } from '../collector'` from a server that mounts it (the demo does).
 */
export { createCollector, startCollector, serverTimeouts, DEFAULT_TIMEOUTS, MAX_BODY_BYTES, MAX_EVENTS } from './http';
export type { Collector, CollectorOptions, CollectAnswer, RunningCollector, Timeouts } from './http';
export { UnstorableEventsError } from './store';
export type { EventStore, CollectedEvent, SignalQuery, SignalCounts, FunnelQuery, FunnelCounts } from './store';
export { createAddressResolver, parseTrustProxy } from './client-address';
export type { TrustProxy, ClientAddress } from './client-address';
export { openDuckDBStore, DEFAULT_DATABASE } from './duckdb-store';
export type { DuckDBStore } from './duckdb-store';
export { openPostgresStore } from './postgres-store';
export type { PostgresStore, PostgresStoreOptions } from './postgres-store';
export { validatePayload, MAX_NESTING } from './validate';
export type { Validation, Rejection } from './validate';
export { checkPlan, loadPlan, PlanError, ERROR_CONTROLS, DEFAULT_ERROR_CONTROL } from './plan';
export type { ReportPlan, ErrorControl } from './plan';
export { buildReport, ASSOCIATION_NOTE, COUNTING_RULE, INTERVAL_NOTE } from './report';
export type { Report, SignalReport, FunnelReport, FunnelStep, ErrorControlReport } from './report';
export { renderReportHtml } from './render-html';
export { renderReportText } from './render-text';
export { compare, wilson, newcombeDifference, katzRatio, sessionsForPower, anytimeDifference, anytimeMultiplier, likelihoodRatioRate, sessionsToSettle, verdictOf } from './stats';
export { DEFAULT_RATE_LIMIT } from './rate-limit';
export type { RateLimit } from './rate-limit';
export { sendTraffic } from './send-traffic';
export { DEMO_MODEL, exactTruth, generateTraffic, modelPlan } from './simulate';
export { createForwarder } from './forward/forwarder';
export type { Forwarder } from './forward/forwarder';
export { openDuckDBOutbox } from './forward/duckdb-outbox';
export { openPostgresOutbox } from './forward/postgres-outbox';
export type { ForwardOutbox, OutboxCounts, OutboxStatus } from './forward/outbox';
export { hashIdentifiers, protectIdentifiers, protectPayload } from './forward/hash';
export type { IdentifierOptions } from './forward/hash';
export { loadForwardConfig } from './forward/config';
export type { ForwardOptions, MetaForwardOptions, GoogleAdsForwardOptions, Ga4ForwardOptions, ForwardableEvent, WireEvent, SendRule } from './forward/types';
export type { ForwardingReport } from './forward/report-section';
