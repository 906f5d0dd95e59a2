// Every error leaves the API as JSON with a stable `code`: clients branch on the code, people read
// the message. Body-parser failures (oversized, malformed) become 413/400 instead of 500.
import {
  ArgumentsHost,
  Catch,
  HttpException,
  HttpStatus,
  Logger,
  NotFoundException,
  type ExceptionFilter,
} from '@nestjs/common';
import type { Request, Response } from 'express';
import { answerUnroutedMethod } from '../routing/method-not-allowed';
import { isDependencyUnavailable, RETRY_AFTER_SECONDS } from './dependency-unavailable';
import { refusedDataCode } from './refused-data';

const CODE_BY_STATUS: Record<number, string> = {
  400: 'BAD_REQUEST',
  401: 'UNAUTHENTICATED',
  403: 'FORBIDDEN',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  422: 'INVALID_SPEC',
  503: 'UNAVAILABLE',
};

interface BodyParserError {
  type?: string;
  status?: number;
  limit?: number;
  message?: string;
}

@Catch()
export class HttpErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('HttpError');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    // A known path asked with another method: 405 with Allow rather than Nest's routing 404.
    if (
      exception instanceof NotFoundException &&
      answerUnroutedMethod(host.switchToHttp().getRequest<Request>(), res)
    )
      return;
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const raw = exception.getResponse();
      const body =
        typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : { message: raw };
      // Terminus puts its whole report in the body; keep it as is.
      if ('status' in body && 'details' in body) {
        res.status(status).json(body);
        return;
      }
      // Nest hands body-parser's JSON syntax errors over as a plain 400; keep their own code.
      const invalidJson = (exception.cause as BodyParserError | undefined)?.type === 'entity.parse.failed';
      res.status(status).json({
        statusCode: status,
        code:
          typeof body.code === 'string'
            ? body.code
            : invalidJson
              ? 'INVALID_JSON'
              : (CODE_BY_STATUS[status] ?? `HTTP_${status}`),
        message: Array.isArray(body.message)
          ? body.message.join('; ')
          : String(body.message ?? exception.message),
        ...Object.fromEntries(
          Object.entries(body).filter(([k]) => !['statusCode', 'code', 'message', 'error'].includes(k)),
        ),
      });
      return;
    }
    const bp = exception as BodyParserError;
    if (bp?.type === 'entity.too.large') {
      res.status(HttpStatus.PAYLOAD_TOO_LARGE).json({
        statusCode: 413,
        code: 'PAYLOAD_TOO_LARGE',
        message: `request body exceeds the ${bp.limit ?? ''} byte limit`.replace('  ', ' '),
      });
      return;
    }
    if (bp?.type === 'entity.parse.failed') {
      res
        .status(400)
        .json({ statusCode: 400, code: 'INVALID_JSON', message: `malformed JSON body: ${bp.message ?? ''}` });
      return;
    }
    if (isDependencyUnavailable(exception)) {
      // Not a bug and not the client's fault: a server we depend on is down or restarting.
      this.logger.warn(
        `dependency unavailable: ${exception instanceof Error ? exception.message.split('\n').filter(Boolean).at(-1) : String(exception)}`,
      );
      res.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
      res.status(HttpStatus.SERVICE_UNAVAILABLE).json({
        statusCode: 503,
        code: 'UNAVAILABLE',
        message: `a server the control plane depends on is not answering; retry in ${RETRY_AFTER_SECONDS} s (see /readyz)`,
      });
      return;
    }
    const refused = refusedDataCode(exception);
    if (refused) {
      // A value validation let through that the database cannot hold or compare: the request's
      // fault, so 400; logged, because validation should have said so with a field name.
      this.logger.warn(
        `database refused a request value (${refused}): ${exception instanceof Error ? exception.message.split('\n').filter(Boolean).at(-1) : String(exception)}`,
      );
      res.status(400).json({
        statusCode: 400,
        code: 'INVALID_VALUE',
        message: `a value in the request is outside what the database accepts (${refused})`,
      });
      return;
    }
    this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    res.status(500).json({ statusCode: 500, code: 'INTERNAL', message: 'internal error' });
  }
}
