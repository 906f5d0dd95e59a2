// pino JSON logs with a request id on every line. The id comes from an incoming X-Request-Id
// (so a caller can correlate) or is generated, and is echoed back in the response header.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Params } from 'nestjs-pino';
import type { AppConfig } from '../config/app-config';
import { redactQuery, redactUrl } from './redact-url';

export function loggerOptions(config: AppConfig): Params {
  return {
    pinoHttp: {
      level: config.LOG_LEVEL,
      genReqId: (req: IncomingMessage, res: ServerResponse) => {
        const header = req.headers['x-request-id'];
        const id = typeof header === 'string' && /^[\w.-]{1,128}$/.test(header) ? header : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
      // Tokens must never reach the logs: not from headers, nor from a query string.
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
      serializers: {
        req: (req: { url?: unknown; query?: unknown }) => ({
          ...req,
          ...(typeof req.url === 'string' ? { url: redactUrl(req.url) } : {}),
          ...('query' in req ? { query: redactQuery(req.query) } : {}),
        }),
      },
      autoLogging: { ignore: (req: IncomingMessage) => req.url === '/healthz' || req.url === '/metrics' },
    },
  };
}
