import type { ToolRuntime } from '@mini-agent/tools';
import type { TokenVerifier } from './auth.js';
import type { GatewayConfig } from './config.js';
import type { InFlight } from './inflight.js';

/** What the route plugins share, passed as their options. */
export interface GatewayContext {
  config: GatewayConfig;
  runtime: ToolRuntime;
  auth: TokenVerifier;
  inflight: InFlight;
  startedAt: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Starts a graceful shutdown while still listening: `/readyz` answers 503, new invocations
     * `503 SHUTTING_DOWN`, runs in flight get the grace period and are then killed. Resolves when
     * none is left; `close()` after it stops the listener.
     */
    beginShutdown(): Promise<void>;
  }
  interface FastifyRequest {
    /** Who is calling: set by the auth hook on protected routes. */
    principal: string;
  }
}
