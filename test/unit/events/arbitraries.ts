import fc from 'fast-check';
import { MANIFEST_ACCEPT } from '../../../lambda/domain';

// Fuzz inputs shared by the property tests of lambda/events: what a registry, or anyone holding
// the webhook token, could post.

const validRepository = fc.stringMatching(
  /^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:\/[a-z0-9]+(?:[._-][a-z0-9]+)*){0,2}$/,
);
/** Repository names that must never come out of a parser: traversal, encoding, case, length, hosts. */
export const HOSTILE_REPOSITORIES = [
  '..',
  'apps/../etc',
  '../../etc/passwd',
  'apps%2Fweb',
  'apps%2f..%2fetc',
  'Apps/Web',
  'apps/WEB',
  'a'.repeat(256),
  `${'a/'.repeat(127)}ab`,
  '/apps',
  'apps//web',
  'apps/',
  ' apps',
  'apps\u0000web',
  'apps\\web',
  '127.0.0.1:5000/apps',
  'http://169.254.169.254/latest',
  'ａpps',
];
/** Mostly valid repository names, else hostile ones, binary strings or any JSON value. */
export const repository = fc.oneof(
  { arbitrary: validRepository, weight: 3 },
  fc.constantFrom(...HOSTILE_REPOSITORIES),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 2 }),
);
/** Mostly valid tags, else short strings or none. */
export const tag = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,20}$/), weight: 3 },
  fc.string({ maxLength: 10 }),
  fc.constant(undefined),
);
/** Every manifest media type, and two blob media types. */
export const mediaType = fc.constantFrom(
  ...MANIFEST_ACCEPT,
  'application/octet-stream',
  'application/vnd.oci.image.config.v1+json',
);

/** Mostly well-formed sha256 digests, else malformed ones (case, length, paths) or other values. */
export const digest = fc.oneof(
  { arbitrary: fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`), weight: 3 },
  fc.constantFrom(
    '',
    'sha256:abc',
    `sha256:${'A'.repeat(64)}`,
    `sha256:${'a'.repeat(63)}`,
    `sha512:${'a'.repeat(64)}`,
    'sha256:../../etc/passwd',
    'sha256',
    ':',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.jsonValue({ maxDepth: 1 }),
);

/** Event times: RFC 3339 (Go's nanoseconds too), Go's zero time, and things that are not times. */
export const timestamp = fc.oneof(
  fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
  fc.constantFrom('2026-11-28T01:17:26.14873819Z', '2026-11-28T03:17:26+02:00', '0001-01-01T00:00:00Z', '1'),
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.constant(undefined),
);

/** User agents of clients, scanners and regsweep, and values that are none. */
export const userAgent = fc.oneof(
  fc.constantFrom('containerd/v1.7.22', 'regsweep/0.2.0', 'Trivy/0.57.0', 'docker/24.0.7', ''),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.jsonValue({ maxDepth: 1 }),
);

/** A distribution event of any action, for a manifest or a blob, with any of its fields wrong. */
export const registryEvent = fc.record(
  {
    id: fc.oneof(fc.uuid(), fc.string({ unit: 'binary', maxLength: 200 }), fc.integer()),
    timestamp,
    action: fc.oneof(
      { arbitrary: fc.constantFrom('push', 'pull', 'delete'), weight: 4 },
      fc.constantFrom('mount', 'PUSH', ''),
      fc.jsonValue({ maxDepth: 1 }),
    ),
    target: fc.record(
      {
        mediaType: fc.oneof(
          { arbitrary: mediaType, weight: 4 },
          fc.constant(''),
          fc.jsonValue({ maxDepth: 1 }),
        ),
        repository,
        tag: fc.oneof(tag, fc.constant('')),
        digest,
        size: fc.oneof(fc.nat(), fc.double(), fc.jsonValue({ maxDepth: 1 })),
        url: fc.constant('http://169.254.169.254/latest/meta-data'),
      },
      { requiredKeys: ['repository'] },
    ),
    request: fc.record({ useragent: userAgent, host: fc.constant('evil.example') }, { requiredKeys: [] }),
  },
  { requiredKeys: ['action', 'target'] },
);

const harborResources = fc.array(fc.record({ digest, tag: fc.oneof(tag, digest) }, { requiredKeys: [] }), {
  maxLength: 5,
});
const harborRepository = fc.record({ repo_full_name: repository });

/** Notifications in every format the parsers read, with events of every kind (and noise among them). */
export const registryEnvelope = fc.oneof(
  fc.record({ events: fc.array(fc.oneof(registryEvent, fc.jsonValue({ maxDepth: 2 })), { maxLength: 8 }) }),
  fc.record({
    type: fc.constantFrom(
      'PUSH_ARTIFACT',
      'PULL_ARTIFACT',
      'DELETE_ARTIFACT',
      'SCANNING_COMPLETED',
      'constructor',
    ),
    occur_at: fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 12 })),
    event_data: fc.record({ resources: harborResources, repository: harborRepository }),
  }),
  fc.record({
    specversion: fc.constant('1.0'),
    id: fc.oneof(fc.uuid(), fc.string({ maxLength: 40 })),
    type: fc.constantFrom(
      'harbor.artifact.pushed',
      'harbor.artifact.pulled',
      'harbor.artifact.deleted',
      'harbor.x',
    ),
    time: timestamp,
    data: fc.record({ resources: harborResources, repository: harborRepository }),
  }),
);
