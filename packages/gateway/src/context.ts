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
  interface FastifyRequest {
    /** Who is calling: set by the auth hook on protected routes. */
    principal: string;
  }
}
