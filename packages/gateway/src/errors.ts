import createError from '@fastify/error';

/** Every HTTP error the gateway answers with; each has a stable `code`. */
export const errors = {
  InvalidBody: createError('INVALID_BODY', '%s', 400),
  InvalidSession: createError('INVALID_SESSION', 'X-Session-Id must match [A-Za-z0-9_-]{1,64}', 400),
  Unauthorized: createError('UNAUTHORIZED', '%s', 401),
  HostNotAllowed: createError(
    'HOST_NOT_ALLOWED',
    'Host header %s is not a loopback name; without tokens only loopback hosts are served',
    403,
  ),
  SessionNotFound: createError('SESSION_NOT_FOUND', 'session %s not found', 404),
  RouteNotFound: createError('ROUTE_NOT_FOUND', 'route %s %s not found', 404),
  PayloadTooLarge: createError('PAYLOAD_TOO_LARGE', 'request body is larger than %s bytes', 413),
  UnsupportedMediaType: createError('UNSUPPORTED_MEDIA_TYPE', 'content-type must be application/json', 415),
  ShuttingDown: createError('SHUTTING_DOWN', 'the gateway is shutting down; retry on another replica', 503),
  Internal: createError('INTERNAL_ERROR', 'internal error (request id %s)', 500),
  ToolForbidden: createError('TOOL_FORBIDDEN', 'tool `%s` is not allowed for this token; allowed tools: %s', 403),
  QueueFull: createError('QUEUE_FULL', 'the gateway is busy (queue of %s calls is full); nothing ran, retry after the Retry-After delay', 429),
  QueueTimeout: createError('QUEUE_TIMEOUT', 'no run slot freed within %s s; nothing ran, retry after the Retry-After delay', 429),
  RateLimited: createError('RATE_LIMITED', 'rate limit of %s calls per minute exceeded; retry in %s', 429),
  // Never seen by the client (it is gone); it names the outcome in logs and metrics.
  ClientClosed: createError('CLIENT_CLOSED', 'the client closed the connection while the call was waiting', 499),
} as const;
