import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Admission } from './admission.js';

/** What became of one tool call, as counted in `mini_agent_invocations_total`. */
export type Outcome = 'ok' | 'failed' | 'timed_out' | 'cancelled' | 'refused';

/** Tool label of names the registry does not know: callers choose names, so they must not choose labels. */
export const UNKNOWN_TOOL = '(unknown)';

// Buckets from a fast exec (~10 ms) to the largest timeouts, in seconds.
const DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const WAIT_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The gateway's Prometheus metrics in a registry of its own, so several apps in one process (tests,
 * embedders) do not clash in prom-client's global one.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly invocations = new Counter({
    name: 'mini_agent_invocations_total',
    help: 'Tool calls by tool, principal and outcome (ok, failed, timed_out, cancelled, refused); code names a refusal.',
    labelNames: ['tool', 'principal', 'outcome', 'code'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'mini_agent_invocation_duration_seconds',
    help: 'Run time of admitted tool calls (queue wait excluded), by tool and outcome.',
    labelNames: ['tool', 'outcome'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly queueWait = new Histogram({
    name: 'mini_agent_queue_wait_seconds',
    help: 'Time admitted calls waited for a run slot.',
    buckets: WAIT_BUCKETS,
    registers: [this.registry],
  });
  readonly rejections = new Counter({
    name: 'mini_agent_rejections_total',
    help: 'Requests refused before anything ran, by reason (QUEUE_FULL, QUEUE_TIMEOUT, RATE_LIMITED, TOOL_FORBIDDEN, SHUTTING_DOWN, CLIENT_CLOSED) and principal.',
    labelNames: ['reason', 'principal'] as const,
    registers: [this.registry],
  });

  constructor(options: { admission: Admission; sandbox: string; maxConcurrency: number; maxQueue: number }) {
    const { admission } = options;
    new Gauge({
      name: 'mini_agent_queue_depth',
      help: 'Calls waiting for a run slot.',
      registers: [this.registry],
      collect() {
        this.set(admission.queued);
      },
    });
    new Gauge({
      name: 'mini_agent_inflight',
      help: 'Tool runs in progress.',
      registers: [this.registry],
      collect() {
        this.set(admission.running);
      },
    });
    const limits = new Gauge({
      name: 'mini_agent_admission_limit',
      help: 'Configured admission limits: max_concurrency, max_queue.',
      labelNames: ['limit'] as const,
      registers: [this.registry],
    });
    limits.set({ limit: 'max_concurrency' }, options.maxConcurrency);
    limits.set({ limit: 'max_queue' }, options.maxQueue);
    new Gauge({
      name: 'mini_agent_sandbox_info',
      help: 'The sandbox backend running tool calls (bwrap, or none: no isolation).',
      labelNames: ['backend'] as const,
      registers: [this.registry],
    }).set({ backend: options.sandbox }, 1);
    collectDefaultMetrics({ register: this.registry });

    admission.onRefuse = (reason, principal) => this.rejections.inc({ reason, principal });
    admission.onAdmit = (waitS) => this.queueWait.observe(waitS);
  }
}

declare module './context.js' {
  interface GatewayContext {
    /** Who runs when: concurrency limits, the fair queue. */
    admission: Admission;
    metrics: GatewayMetrics;
  }
}
