import createError from '@fastify/error';
import { isLoopbackHost } from '../config.js';

export const OriginNotAllowed = createError(
  'ORIGIN_NOT_ALLOWED',
  'Origin %s may not call /mcp; allowed: loopback origins and MINI_AGENT_ALLOWED_ORIGINS',
  403,
);

/**
 * Throws unless a browser `Origin` header names a loopback origin or one the operator allowed.
 * Requests without one (MCP clients that are not browsers) pass: the Host check and the token
 * guard them. This is the MCP spec's DNS-rebinding defence: a page of `evil.example` whose name
 * now resolves to 127.0.0.1 still sends `Origin: http://evil.example`.
 */
export function checkOrigin(header: string | undefined, allowed: readonly string[]): void {
  if (header === undefined) return;
  let url: URL | undefined;
  try {
    url = new URL(header);
  } catch {
    url = undefined;
  }
  const hostname = url?.hostname.replace(/^\[(.*)\]$/, '$1');
  if (url !== undefined && hostname !== undefined && /^https?:$/.test(url.protocol)) {
    if (isLoopbackHost(hostname) || allowed.includes(url.origin)) return;
  }
  throw new OriginNotAllowed(JSON.stringify(header.slice(0, 200)));
}
