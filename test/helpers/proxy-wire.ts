import type { IncomingMessage, ServerResponse } from 'node:http';

import { request, type Dispatcher } from 'undici';

/*
 * The HTTP plumbing of the fault proxy: forwarding one request, rewriting what points at the
 * target, and writing normal, error and deliberately broken answers.
 */

// Connection-level headers belong to one hop; the proxy frames each side itself.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'proxy-authorization',
  'proxy-connection',
  'expect',
  'host',
  'content-length',
]);

/** The whole request body (registry test payloads are small). */
export async function readBody(incoming: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of incoming) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Sends the request on to the target with its Host, and reads the whole answer. */
export async function forward(
  agent: Dispatcher,
  target: URL,
  method: string,
  incoming: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: Record<string, string | string[]>; body: Buffer }> {
  const headers: Record<string, string | string[]> = { host: target.host };
  for (const [name, value] of Object.entries(incoming.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) headers[name] = value;
  }
  const response = await request(new URL(incoming.url ?? '/', target.origin), {
    method: method as Dispatcher.HttpMethod,
    headers,
    ...(body.length > 0 && { body }),
    dispatcher: agent,
  });
  const responseBody = Buffer.from(await response.body.arrayBuffer());
  const responseHeaders: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(response.headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) responseHeaders[name] = value;
  }
  // HEAD answers carry the length of the body they do not send: keep it.
  const length = response.headers['content-length'];
  if (method === 'HEAD' && typeof length === 'string') responseHeaders['content-length'] = length;
  return { status: response.statusCode, headers: responseHeaders, body: responseBody };
}

/** Points `Location` and `Link` targets at the proxy, so the client's next request comes back here. */
export function rewriteHeaders(
  headers: Record<string, string | string[]>,
  targetOrigin: string,
  proxyOrigin: string,
): Record<string, string | string[]> {
  const rewritten = { ...headers };
  for (const name of ['location', 'link']) {
    const value = rewritten[name];
    if (typeof value === 'string') rewritten[name] = value.split(targetOrigin).join(proxyOrigin);
  }
  return rewritten;
}

/** The Content-Length to declare: a HEAD keeps the target's, anything else its real body length. */
function contentLength(method: string, headers: Record<string, string | string[]>, body: Buffer): string {
  const declared = headers['content-length'];
  return method === 'HEAD' && typeof declared === 'string' ? declared : String(body.length);
}

/** Writes the target's answer as it is: its status and headers, the body unless it is a HEAD. */
export function relay(
  response: ServerResponse,
  method: string,
  status: number,
  headers: Record<string, string | string[]>,
  body: Buffer,
): void {
  response.writeHead(status, { ...headers, 'content-length': contentLength(method, headers, body) });
  response.end(method === 'HEAD' ? undefined : body);
}

/**
 * Writes the response raw with its full `Content-Length` but only half the body, then destroys
 * the socket. A HEAD (or empty) answer has no body to cut, so its header block is cut instead.
 */
export function truncate(
  response: ServerResponse,
  method: string,
  status: number,
  headers: Record<string, string | string[]>,
  body: Buffer,
): void {
  const socket = response.socket;
  if (!socket) return;
  const lines = [`HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Status'}`];
  for (const [name, value] of Object.entries(headers)) {
    if (name === 'content-length') continue;
    for (const item of Array.isArray(value) ? value : [value]) lines.push(`${name}: ${item}`);
  }
  lines.push(`content-length: ${contentLength(method, headers, body)}`);
  const head = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  const cut =
    method === 'HEAD' || body.length === 0
      ? head.subarray(0, Math.floor(head.length / 2))
      : Buffer.concat([head, body.subarray(0, Math.floor(body.length / 2))]);
  socket.write(cut, () => socket.destroy());
}

/** A Registry API error body: `{"errors":[{code,message,detail}]}`. */
export function errorsBody(code: string, message: string): unknown {
  return { errors: [{ code, message, detail: null }] };
}

/** Answers with a JSON body. */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  response.end(text);
}
