import { TsbuildError, type ErrorCode } from '../core/errors.ts';
import { redactUrl } from './redact.ts';
import { isUntrustedCertificate } from '../sys/tlsTrust.ts';

/**
 * RegistryErrorCode is the distribution-spec error code set, plus NETWORK (no HTTP
 * answer: reset, refused, timeout) and UNKNOWN (a status with no recognised code).
 */
export type RegistryErrorCode =
  | 'BLOB_UNKNOWN'
  | 'BLOB_UPLOAD_INVALID'
  | 'BLOB_UPLOAD_UNKNOWN'
  | 'DIGEST_INVALID'
  | 'MANIFEST_BLOB_UNKNOWN'
  | 'MANIFEST_INVALID'
  | 'MANIFEST_UNKNOWN'
  | 'MANIFEST_UNVERIFIED'
  | 'NAME_INVALID'
  | 'NAME_UNKNOWN'
  | 'SIZE_INVALID'
  | 'UNAUTHORIZED'
  | 'DENIED'
  | 'UNSUPPORTED'
  | 'TOOMANYREQUESTS'
  | 'UNAVAILABLE'
  | 'NETWORK'
  | 'UNKNOWN';

const KNOWN = new Set<string>([
  'BLOB_UNKNOWN', 'BLOB_UPLOAD_INVALID', 'BLOB_UPLOAD_UNKNOWN', 'DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID', 'MANIFEST_UNKNOWN', 'MANIFEST_UNVERIFIED', 'NAME_INVALID', 'NAME_UNKNOWN', 'SIZE_INVALID',
  'UNAUTHORIZED', 'DENIED', 'UNSUPPORTED', 'TOOMANYREQUESTS', 'UNAVAILABLE',
]);

/** Network error codes (Node errno) worth a retry: the request may well succeed next time. */
const TEMPORARY_ERRNO = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'UND_ERR_SOCKET']);

/** Statuses that mean "try again later" (ggcr's temporary set). */
const TEMPORARY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** RegistryErrorOptions describes the failed request; url is redacted on construction. */
export interface RegistryErrorOptions {
  registryCode: RegistryErrorCode;
  /** HTTP status, 0 when no response arrived. */
  status: number;
  method: string;
  url: URL | string;
  /** The registry's own words (first error's message), if any. */
  detail?: string;
  hint?: string;
  cause?: unknown;
  /** Forces temporary on or off; by default it follows the status and code. */
  temporary?: boolean;
}

function tsbuildCode(c: RegistryErrorCode): ErrorCode {
  switch (c) {
    case 'UNAUTHORIZED':
    case 'DENIED':
      return 'REGISTRY_UNAUTHORIZED';
    case 'BLOB_UNKNOWN':
      return 'BLOB_UNKNOWN';
    case 'MANIFEST_UNKNOWN':
    case 'NAME_UNKNOWN':
      return 'IMAGE_NOT_FOUND';
    default:
      return 'REGISTRY';
  }
}

/**
 * RegistryError is a failed registry request: `METHOD redacted-url: CODE: detail`.
 * `registryCode` is the distribution-spec code (the tsbuild `code` is its coarse
 * family, e.g. REGISTRY_UNAUTHORIZED); `temporary` says whether a retry may help.
 * It never holds credentials: the url is redacted and no header is kept.
 */
export class RegistryError extends TsbuildError {
  readonly registryCode: RegistryErrorCode;
  readonly status: number;
  readonly method: string;
  /** The request URL, redacted (no userinfo, secret query values replaced). */
  readonly url: string;
  readonly temporary: boolean;

  constructor(o: RegistryErrorOptions) {
    const url = redactUrl(o.url);
    const what = o.detail ? `${o.registryCode}: ${o.detail}` : o.status ? `${o.registryCode} (HTTP ${o.status})` : o.registryCode;
    super(tsbuildCode(o.registryCode), `${o.method} ${url}: ${what}`, {
      ...(o.hint ? { hint: o.hint } : {}),
      ...(o.cause !== undefined ? { cause: o.cause } : {}),
    });
    this.name = 'RegistryError';
    this.registryCode = o.registryCode;
    this.status = o.status;
    this.method = o.method;
    this.url = url;
    this.temporary =
      o.temporary ?? (TEMPORARY_STATUS.has(o.status) || o.registryCode === 'TOOMANYREQUESTS' || o.registryCode === 'UNAVAILABLE');
  }
}

/** isTemporary tells whether err is worth retrying (a temporary RegistryError). */
export function isTemporary(err: unknown): boolean {
  return err instanceof RegistryError && err.temporary;
}

/** errorFromBody builds the RegistryError for a non-success response from its (bounded) body text. */
export function errorFromBody(method: string, url: URL, status: number, body: string, hint?: string): RegistryError {
  let code: RegistryErrorCode = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'DENIED' : status === 429 ? 'TOOMANYREQUESTS' : 'UNKNOWN';
  let detail: string | undefined;
  try {
    const j = JSON.parse(body) as { errors?: { code?: string; message?: string }[] };
    const first = j.errors?.[0];
    if (first?.code && KNOWN.has(first.code)) code = first.code as RegistryErrorCode;
    if (first?.message) detail = first.message;
  } catch {
    const text = body.trim().split('\n')[0];
    if (text && text.length < 200 && !/[<>]/.test(text)) detail = text;
  }
  if (code === 'UNKNOWN' && status === 404 && method === 'HEAD') code = /\/manifests\//.test(url.pathname) ? 'MANIFEST_UNKNOWN' : 'BLOB_UNKNOWN';
  return new RegistryError({ registryCode: code, status, method, url, ...(detail ? { detail } : {}), ...(hint ? { hint } : {}) });
}

/** networkError wraps a failure with no HTTP answer; resets and timeouts are temporary. */
export function networkError(method: string, url: URL, cause: unknown): RegistryError {
  const errno = (cause as { code?: string })?.code ?? '';
  const msg = cause instanceof Error ? cause.message : String(cause);
  return new RegistryError({
    registryCode: 'NETWORK',
    status: 0,
    method,
    url,
    detail: errno && !msg.includes(errno) ? `${errno}: ${msg}` : msg,
    cause,
    temporary: TEMPORARY_ERRNO.has(errno) || /socket hang up/.test(msg),
    ...(isUntrustedCertificate(errno) ? { hint: `the certificate of ${url.host} is not trusted: add its CA (PEM) to NODE_EXTRA_CA_CERTS, or for a plain-HTTP registry use --insecure-registry ${url.host}` } : {}),
  });
}

