import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { errors } from './errors.js';
import { isLoopbackHost } from './config.js';

/** The principal of calls made without tokens configured (loopback only). */
export const ANONYMOUS = 'anonymous';

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * Maps a bearer token to its principal. Every configured token is compared, in constant time, on
 * every request, so timing tells nothing of which token was close.
 */
export class TokenVerifier {
  readonly #entries: { hash: Buffer; principal: string }[];

  constructor(tokens: ReadonlyMap<string, string>) {
    this.#entries = [...tokens].map(([token, principal]) => ({ hash: digest(token), principal }));
  }

  get enabled(): boolean {
    return this.#entries.length > 0;
  }

  /** The principal of `token`, or undefined. */
  verify(token: string): string | undefined {
    const hash = digest(token);
    let found: string | undefined;
    for (const entry of this.#entries) {
      if (timingSafeEqual(hash, entry.hash)) found = entry.principal;
    }
    return found;
  }

  /**
   * The principal of a request. Without tokens, only loopback Host headers pass, so a web page
   * that rebinds its DNS name to 127.0.0.1 cannot drive the gateway from a browser.
   */
  authenticate(request: FastifyRequest): string {
    if (!this.enabled) {
      const host = hostName(request.headers.host ?? '');
      if (!isLoopbackHost(host)) throw new errors.HostNotAllowed(JSON.stringify(request.headers.host ?? ''));
      return ANONYMOUS;
    }
    const header = request.headers.authorization;
    if (header === undefined) throw new errors.Unauthorized('missing Authorization: Bearer <token> header');
    const match = /^Bearer +(\S+) *$/i.exec(header);
    if (match === null) throw new errors.Unauthorized('Authorization header must be `Bearer <token>`');
    const principal = this.verify(match[1]!);
    if (principal === undefined) throw new errors.Unauthorized('invalid bearer token');
    return principal;
  }
}

/** The tools `principal` may see and call (`MINI_AGENT_PRINCIPAL_TOOLS`); undefined: every tool. */
export function allowedTools(
  principalTools: ReadonlyMap<string, ReadonlySet<string>>,
  principal: string,
): ReadonlySet<string> | undefined {
  return principalTools.get(principal);
}

function hostName(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(1, hostHeader.indexOf(']'));
  const colon = hostHeader.lastIndexOf(':');
  return colon === -1 ? hostHeader : hostHeader.slice(0, colon);
}
