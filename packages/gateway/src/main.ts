import closeWithGrace from 'close-with-grace';
import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { resolveConfig, type ConfigInput, type GatewayConfig } from './config.js';
import { createLogger } from './logger.js';

export interface RunningGateway {
  app: FastifyInstance;
  config: GatewayConfig;
  /** The address it listens on, e.g. `http://127.0.0.1:8787`. */
  url: string;
}

/**
 * Reads the configuration (environment merged with flags), starts listening, and closes gracefully
 * on SIGTERM/SIGINT: readiness turns 503, new calls are refused, in-flight runs get the grace period.
 */
export async function startGateway(overrides: ConfigInput = {}): Promise<RunningGateway> {
  const config = resolveConfig({ ...process.env, ...overrides });
  const logger = createLogger(config.logLevel, process.stdout.isTTY === true);
  const app = await buildApp(config, { logger });
  const url = await app.listen({ host: config.host, port: config.port });
  const sandbox = (await app.inject({ url: '/healthz' })).json<{ sandbox: string }>().sandbox;
  logger.info(
    { url, sandbox, auth: config.tokens.size > 0 ? `${config.tokens.size} token(s)` : 'none (loopback only)' },
    'mini-agent gateway listening',
  );
  if (sandbox === 'none') {
    logger.warn('SANDBOX IS OFF: tool code runs as this user with its files and network. Use on loopback for development only.');
  }
  // The grace period is the gateway's own; the extra seconds cover killing and cleanup.
  closeWithGrace({ delay: (config.shutdownGraceS + 5) * 1000 }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'fatal error, closing');
    else logger.info({ signal, inFlight: 'draining' }, 'shutting down');
    await app.beginShutdown();
    await app.close();
  });
  return { app, config, url };
}
