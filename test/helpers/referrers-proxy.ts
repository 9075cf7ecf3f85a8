import { createServer } from 'node:http';

import { Agent } from 'undici';

import { MediaType, type Digest } from '../../lambda/domain';
import type { ArtifactDescriptor } from '../../tools/artifacts';
import { assertLoopbackUrl, listenOnLoopback } from '../../tools/ports';
import { errorsBody, forward, readBody, relay, rewriteHeaders, sendJson } from './proxy-wire';

/** A registry with the OCI 1.1 referrers API, made of a real registry and this proxy. */
export interface ReferrersProxy {
  /** `http://127.0.0.1:<port>`: use it in place of the registry URL. */
  readonly url: string;
  /** The `GET .../referrers/<digest>` requests answered so far. */
  readonly referrersRequests: number;
  /** Says that `artifact` refers to `subject` (what a registry with the API learns from a push). */
  addReferrer(subject: Digest, artifact: ArtifactDescriptor): void;
  stop(): Promise<void>;
}

const REFERRERS_PATH = /^\/v2\/(.+)\/referrers\/(sha256:[a-f0-9]{64})(?:\?.*)?$/;
const FORWARD_TIMEOUT_MS = 30_000;

/**
 * A pass-through proxy on 127.0.0.1 in front of a 127.0.0.1 registry that answers
 * `GET /v2/<repo>/referrers/<digest>` itself, as OCI distribution 1.1 says: 200 with an image
 * index of the artifacts registered with {@link ReferrersProxy.addReferrer} (empty when none).
 * distribution 2.8.2 and 3.1.1 answer that route 404; everything else goes to the registry.
 */
export async function startReferrersProxy(targetUrl: string): Promise<ReferrersProxy> {
  const target = assertLoopbackUrl(targetUrl, 'referrers proxy target');
  const agent = new Agent({
    connections: 32,
    headersTimeout: FORWARD_TIMEOUT_MS,
    bodyTimeout: FORWARD_TIMEOUT_MS,
  });
  const referrers = new Map<Digest, ArtifactDescriptor[]>();
  let referrersRequests = 0;
  let proxyOrigin = '';
  const server = createServer((incoming, response) => {
    const method = incoming.method ?? 'GET';
    const match = REFERRERS_PATH.exec(incoming.url ?? '');
    if (method === 'GET' && match) {
      referrersRequests += 1;
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaType.OciIndex,
        manifests: referrers.get(match[2] as Digest) ?? [],
      });
      response.writeHead(200, {
        'content-type': MediaType.OciIndex,
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
      return;
    }
    void (async () => {
      const body = await readBody(incoming);
      const forwarded = await forward(agent, target, method, incoming, body);
      relay(
        response,
        method,
        forwarded.status,
        rewriteHeaders(forwarded.headers, target.origin, proxyOrigin),
        forwarded.body,
      );
    })().catch((error: unknown) => {
      if (!response.headersSent)
        sendJson(response, 502, errorsBody('UNKNOWN', `referrers proxy: ${String(error)}`));
      else response.destroy();
    });
  });
  proxyOrigin = await listenOnLoopback(server);
  server.unref();
  return {
    url: proxyOrigin,
    get referrersRequests() {
      return referrersRequests;
    },
    addReferrer: (subject, artifact) => {
      referrers.set(subject, [...(referrers.get(subject) ?? []), artifact]);
    },
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await agent.close();
    },
  };
}
