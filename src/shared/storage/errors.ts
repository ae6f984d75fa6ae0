/** The storage module's error type and the translation of SDK errors into one safe line. */
import { StackHubError, oneLine } from '../errors';
import { redactUrl } from '../http';

/** A storage operation failed. The message is one line and never holds a key, a SAS or a connection string. */
export class StorageError extends StackHubError {
  constructor(
    message: string,
    /** The object does not exist (404 / ENOENT). */
    readonly notFound = false,
    /** HTTP status when the store answered. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Removes query strings (SAS), userinfo and obvious secrets from an SDK message. */
export function scrubMessage(m: string, secrets: readonly (string | undefined)[] = []): string {
  let out = oneLine(m)
    .replace(/https?:\/\/[^\s"'<>]+/g, (u) => redactUrl(u))
    .replace(/(sig|AccountKey|SharedAccessSignature|X-Amz-Signature|X-Amz-Credential)=[^;&\s"']+/gi, '$1=***');
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join('***');
  return out.length > 400 ? `${out.slice(0, 400)}…` : out;
}

/**
 * Wraps any error of a storage call into a {@link StorageError} naming the operation and location.
 * @param what e.g. `upload of https://acct.blob…/c/p/k`
 */
export function storageError(e: unknown, what: string, secrets: readonly (string | undefined)[] = []): StorageError {
  if (e instanceof StorageError) return e;
  const err = e as { statusCode?: number; code?: string; name?: string; message?: string; $metadata?: { httpStatusCode?: number }; Code?: string };
  const status = err?.statusCode ?? err?.$metadata?.httpStatusCode;
  const code = err?.code ?? err?.Code ?? (err?.name && err.name !== 'Error' ? err.name : undefined);
  const notFound = status === 404 || code === 'ENOENT' || code === 'NoSuchKey' || code === 'BlobNotFound' || code === 'NotFound';
  const base = e instanceof Error ? e.message : String(e);
  const hint =
    status === 403 || code === 'AuthenticationFailed' || code === 'AuthorizationFailure' || code === 'SignatureDoesNotMatch' || code === 'InvalidAccessKeyId'
      ? ' (check the storage credentials and, for a Hub, storageApiVersion)'
      : code === 'InvalidHeaderValue' && /x-ms-version/i.test(base)
        ? ' (the store does not accept this REST API version: set storageApiVersion, e.g. 2019-07-07 for Azure Stack Hub)'
        : code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ECONNRESET' || code === 'ETIMEDOUT'
          ? ' (storage endpoint unreachable)'
          : '';
  const detail = scrubMessage([status ? `HTTP ${status}` : '', code && !base.includes(code) ? code : '', base].filter(Boolean).join(' '), secrets);
  return new StorageError(`${what} failed: ${detail}${hint}`, notFound, status);
}
