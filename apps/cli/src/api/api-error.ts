// Turns a refused request into the message and exit code a person or script needs: what failed,
// why, and what to do about it. The API's errors share one body (`code`, `message`, `errors[]`).
import { CliError, EXIT, type ExitCode } from '../exit-codes';

export interface ApiErrorDetail {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

export interface ApiErrorBody {
  statusCode?: number;
  code?: string;
  message?: string;
  errors?: ApiErrorDetail[];
  operationId?: string;
  [key: string]: unknown;
}

/** An HTTP error from the control plane, with the body it sent. */
export class ApiRequestError extends CliError {
  constructor(
    message: string,
    exitCode: ExitCode,
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(message, exitCode);
  }
}

export function exitCodeForStatus(status: number): ExitCode {
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 409) return EXIT.REFUSED;
  return EXIT.ERROR;
}

export function apiRequestError(status: number, body: ApiErrorBody, what: string): ApiRequestError {
  const code = body.code ?? `HTTP_${status}`;
  const text = body.message ?? `HTTP ${status}`;
  let message: string;
  if (status === 401)
    message = `the control plane refused the token (${text}): log in again with \`sluice login --url URL --token-stdin\`, or check SLUICE_TOKEN`;
  else if (status === 403) message = `permission denied: ${text}`;
  else if (status === 409 && body.operationId)
    message = `refused: ${text} — follow it with \`sluice operations wait ${body.operationId}\``;
  else if (status === 409) message = `refused: ${text} (${code})`;
  else if (status === 404) message = `not found: ${text}`;
  else if (status === 503) message = `the control plane is unavailable (${text}); try again shortly`;
  else message = `${what} failed: ${text} (${code})`;
  const details = status === 422 ? [] : (body.errors ?? []);
  const lines = details.map((d) => `  ${d.path || '(body)'}: ${d.message}`);
  return new ApiRequestError([message, ...lines].join('\n'), exitCodeForStatus(status), status, body);
}
