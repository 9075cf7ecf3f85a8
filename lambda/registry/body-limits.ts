import type { Dispatcher } from 'undici';

import { ResponseTooLargeError } from './errors';
import type { TransportRequest } from './http';
import { isRedirect } from './redirects';

/** Error bodies are read up to this size (the registry's JSON errors are tiny); the rest is dropped. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

type Body = Dispatcher.ResponseData['body'];

/**
 * The body of one answer, within its cap: nothing for a HEAD or a redirect (drained); a 2xx body
 * up to `request.maxBodyBytes`, else {@link ResponseTooLargeError}; an error body truncated at
 * {@link MAX_ERROR_BODY_BYTES}.
 */
export async function readAnswerBody(
  request: TransportRequest,
  url: string,
  status: number,
  body: Body,
  contentLength: string | undefined,
): Promise<Buffer> {
  if (request.method === 'HEAD' || isRedirect(status)) {
    await body.dump();
    return Buffer.alloc(0);
  }
  const success = status >= 200 && status < 300;
  return readBody(body, success ? request.maxBodyBytes : MAX_ERROR_BODY_BYTES, {
    truncate: !success,
    ...(contentLength !== undefined && { contentLength }),
    onTooLarge: (limit) =>
      new ResponseTooLargeError(request.what, limit, { method: request.method, url, statusCode: status }),
  });
}

/**
 * Reads a body chunk by chunk and stops as soon as it passes `limit`: a hostile or broken
 * registry cannot make regsweep buffer more than `limit` bytes. A declared Content-Length above
 * the limit is refused before reading anything.
 */
async function readBody(
  body: Body,
  limit: number,
  options: { truncate: boolean; contentLength?: string; onTooLarge: (limit: number) => Error },
): Promise<Buffer> {
  if (!options.truncate && options.contentLength !== undefined && Number(options.contentLength) > limit) {
    body.destroy();
    throw options.onTooLarge(limit);
  }
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    if (length + buffer.length > limit) {
      body.destroy();
      if (options.truncate) {
        chunks.push(buffer.subarray(0, limit - length));
        return Buffer.concat(chunks);
      }
      throw options.onTooLarge(limit);
    }
    chunks.push(buffer);
    length += buffer.length;
  }
  return Buffer.concat(chunks);
}
