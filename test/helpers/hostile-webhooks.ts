import fc from 'fast-check';

import { MANIFEST_ACCEPT } from '../../lambda/domain';

/*
 * Webhook bodies and headers for fuzzing the notification endpoints (the Lambda handler and
 * `regsweep serve`): well-formed pushes among broken JSON, deep nesting, huge arrays, wrong types,
 * unicode and hostile repository names and tags. Every URL or host inside an event points at a
 * canary, which must never be called.
 */

/** Repository names the fuzz treats as valid and the test policy covers (`apps/**`). */
export const COVERED_REPOSITORIES = ['apps/web', 'apps/api', 'apps/team/worker'] as const;

/** Names no request may ever carry: traversal, encoding tricks, case, length, hosts. */
export const HOSTILE_REPOSITORIES = [
  '..',
  'apps/..',
  'apps/../secrets',
  '../../etc/passwd',
  'apps/%2e%2e/secrets',
  'apps%2Fweb',
  'apps%2f..%2fsecrets',
  'apps/web%2F..%2F..%2Fv2%2F_catalog',
  'Apps/Web',
  'APPS/WEB',
  'apps/Web',
  `apps/${'a'.repeat(300)}`,
  'a'.repeat(301),
  '/apps/web',
  'apps/web/',
  'apps//web',
  'apps/web?n=1',
  'apps/web#x',
  'apps/web\n',
  'apps/web\r\nHost: evil',
  'apps/ web',
  'apps/wéb',
  'ａpps/web',
  'apps/web\u0000',
  'apps\\web',
  'apps/web:latest',
  'apps/web@sha256:0000',
  '127.0.0.1:1/apps/web',
  'http://127.0.0.1:1/apps/web',
];

/** Tags no request may carry. */
export const HOSTILE_TAGS = [
  'feature/x',
  'a/b/c',
  '../x',
  '..',
  '%2F',
  'x'.repeat(200),
  '-bad',
  '.hidden',
  'v1 2',
  '',
];

const manifestMediaType = fc.constantFrom(...MANIFEST_ACCEPT);

/** Events whose `target.url`, `request.host`, `request.addr`, `source.addr` name `canary`. */
export function hostileBody(canary: URL): fc.Arbitrary<string> {
  const repository = fc.oneof(
    { arbitrary: fc.constantFrom(...COVERED_REPOSITORIES), weight: 4 },
    { arbitrary: fc.constantFrom(...HOSTILE_REPOSITORIES), weight: 4 },
    fc.string({ unit: 'grapheme', maxLength: 30 }),
    fc.jsonValue({ maxDepth: 2 }),
  );
  const tag = fc.oneof(
    { arbitrary: fc.constantFrom('main-1', 'v1.2.3', 'latest', 'pr-7'), weight: 4 },
    fc.constantFrom(...HOSTILE_TAGS),
    fc.string({ unit: 'grapheme', maxLength: 12 }),
    fc.jsonValue({ maxDepth: 1 }),
  );
  const distributionEvent = fc.record(
    {
      id: fc.oneof(fc.uuid(), fc.string({ unit: 'binary', maxLength: 300 }), fc.integer(), fc.constant(null)),
      timestamp: fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      action: fc.oneof({ arbitrary: fc.constant('push'), weight: 4 }, fc.jsonValue({ maxDepth: 1 })),
      target: fc.record(
        {
          mediaType: fc.oneof({ arbitrary: manifestMediaType, weight: 4 }, fc.jsonValue({ maxDepth: 1 })),
          repository,
          tag,
          digest: fc.constant(`sha256:${'a'.repeat(64)}`),
          url: fc.constant(`${canary.origin}/v2/apps/web/manifests/latest`),
        },
        { requiredKeys: ['mediaType', 'repository'] },
      ),
      request: fc.record({
        host: fc.constant(canary.host),
        addr: fc.constant(canary.host),
        useragent: fc.constantFrom('docker/24.0.7', 'regsweep/0.1.0', 'buildkit/v0.12'),
      }),
      source: fc.record({ addr: fc.constant(canary.host), instanceID: fc.uuid() }),
    },
    { requiredKeys: ['action', 'target'] },
  );
  const harbor = fc.record({
    type: fc.constantFrom('PUSH_ARTIFACT', 'DELETE_ARTIFACT', 'harbor.artifact.pushed'),
    occur_at: fc.integer(),
    event_data: fc.record({
      resources: fc.array(
        fc.record({
          tag,
          digest: fc.constant(`sha256:${'b'.repeat(64)}`),
          resource_url: fc.constant(`${canary.host}/apps/web:1`),
        }),
        { maxLength: 4 },
      ),
      repository: fc.record({
        repo_full_name: repository,
        namespace: fc.constant('apps'),
        name: fc.string(),
      }),
    }),
  });
  const envelope = fc.oneof(
    { arbitrary: fc.record({ events: fc.array(distributionEvent, { maxLength: 12 }) }), weight: 6 },
    harbor,
    fc.record({ events: fc.jsonValue({ maxDepth: 3 }) }),
    fc.record({ specversion: fc.constant('1.0'), type: fc.string(), data: fc.jsonValue({ maxDepth: 2 }) }),
    fc.jsonValue({ maxDepth: 4 }),
  );
  const wellFormed = envelope.map((value) => JSON.stringify(value) ?? 'null');
  return fc.oneof(
    { arbitrary: wellFormed, weight: 8 },
    // Broken JSON: a well-formed body cut short, or with a byte flipped.
    wellFormed.chain((text) =>
      fc.nat({ max: Math.max(0, text.length - 1) }).map((cut) => text.slice(0, cut)),
    ),
    wellFormed.chain((text) =>
      fc
        .nat({ max: Math.max(0, text.length - 1) })
        .map((at) => `${text.slice(0, at)}\u0000${text.slice(at + 1)}`),
    ),
    fc.string({ unit: 'binary', maxLength: 200 }),
    // Deep nesting, as arrays and as objects, inside and outside `events`.
    fc.integer({ min: 1_000, max: 150_000 }).map((depth) => `${'['.repeat(depth)}${']'.repeat(depth)}`),
    fc
      .integer({ min: 1_000, max: 50_000 })
      .map((depth) => `{"events":${'[{"a":'.repeat(depth)}1${'}]'.repeat(depth)}}`),
    // Huge arrays just under and over the 1 MiB limit.
    fc.constantFrom(250_000, 262_000, 400_000).map((count) => `{"events":[${'0,'.repeat(count)}0]}`),
    fc.constant(
      `{"events":[${Array.from({ length: 12_000 }, (_, index) => `{"action":"push","target":{"mediaType":"${MANIFEST_ACCEPT[0]}","repository":"apps/web","tag":"t${index}"},"id":"e${index}"}`).join(',')}]}`,
    ),
  );
}

/** `Authorization` values: mostly the right token, and every near miss. */
export function authorizationHeader(token: string): fc.Arbitrary<string | undefined> {
  return fc.oneof(
    { arbitrary: fc.constant(`Bearer ${token}`), weight: 6 },
    fc.constantFrom(
      undefined,
      '',
      'Bearer',
      'Bearer ',
      `bearer ${token}`,
      `Bearer  ${token}  `,
      `Bearer ${token.slice(0, -1)}`,
      `Bearer ${token}x`,
      `Bearer ${token.toUpperCase()}`,
      `Basic ${Buffer.from(`user:${token}`).toString('base64')}`,
      `Bearer ${token}, Bearer ${token}`,
    ),
    fc.string({ maxLength: 60 }),
  );
}

/** Content types the registries send, and others. */
export const contentType = fc.oneof(
  fc.constantFrom(
    'application/vnd.docker.distribution.events.v1+json',
    'application/vnd.docker.distribution.events.v2+json',
    'application/cloudevents+json',
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
  ),
  fc.string({ maxLength: 40 }),
  fc.constant(undefined),
);

/** Extra headers with names and values HTTP allows (so that a client can send them). */
export const extraHeaders = fc.dictionary(
  fc.stringMatching(/^x-[a-z0-9-]{1,20}$/),
  fc.stringMatching(/^[\x20-\x7e]{0,80}$/),
  { maxKeys: 4 },
);
