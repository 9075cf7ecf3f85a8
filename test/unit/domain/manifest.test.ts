import { MediaType, childDigests, parseManifest } from '../../../lambda/domain';

const A = `sha256:${'a'.repeat(64)}` as const;
const B = `sha256:${'b'.repeat(64)}` as const;
const C = `sha256:${'c'.repeat(64)}` as const;

describe('Function: parseManifest', () => {
  it('reads an index: children with platforms, annotations, subject', () => {
    // Act
    const parsed = parseManifest(MediaType.OciIndex, {
      schemaVersion: 2,
      manifests: [
        {
          mediaType: MediaType.OciManifest,
          digest: A,
          size: 10,
          platform: { architecture: 'amd64', os: 'linux' },
        },
        { mediaType: MediaType.OciIndex, digest: B, size: 20, annotations: { note: 'inner', count: 3 } },
      ],
      subject: { mediaType: MediaType.OciManifest, digest: C, size: 5 },
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    });

    // Assess
    expect(childDigests(parsed)).toEqual([A, B]);
    expect(parsed.children[0]?.platform).toEqual({ architecture: 'amd64', os: 'linux' });
    expect(parsed.children[1]?.annotations).toEqual({ note: 'inner' });
    expect(parsed.subject?.digest).toBe(C);
    expect(parsed.config).toBeUndefined();
    expect(parsed.layers).toEqual([]);
  });

  it('reads an image: config, layers, artifactType; no children', () => {
    // Act
    const parsed = parseManifest(MediaType.OciManifest, {
      artifactType: 'application/spdx+json',
      config: { mediaType: MediaType.OciEmpty, digest: A, size: 2 },
      layers: [{ mediaType: 'application/spdx+json', digest: B, size: 300 }],
      manifests: [{ digest: C }],
    });

    // Assess
    expect(parsed.children).toEqual([]);
    expect(parsed.config?.digest).toBe(A);
    expect(parsed.layers.map((layer) => [layer.digest, layer.size])).toEqual([[B, 300]]);
    expect(parsed.artifactType).toBe('application/spdx+json');
  });

  it.each([
    ['not an object', 'text'],
    ['an array', [1, 2]],
    ['null', null],
  ])('yields an empty manifest for a body that is %s', (_, body) => {
    expect(parseManifest(MediaType.OciIndex, body)).toEqual({
      mediaType: MediaType.OciIndex,
      children: [],
      layers: [],
    });
  });

  it('drops entries whose digest is malformed (a string with a colon is not enough)', () => {
    // Act
    const parsed = parseManifest(MediaType.DockerManifestList, {
      manifests: [
        { digest: 'sha256:short' },
        { digest: 'no-colon' },
        { digest: 42 },
        null,
        'sha256:abc',
        { digest: A, size: -1 },
      ],
    });

    // Assess: only the valid one, its impossible size read as 0.
    expect(parsed.children).toEqual([{ mediaType: '', digest: A, size: 0 }]);
  });

  it('takes the body mediaType only when the registry gave none', () => {
    expect(
      parseManifest(undefined, { mediaType: MediaType.OciIndex, manifests: [{ digest: A }] }).children,
    ).toHaveLength(1);
    expect(
      parseManifest(MediaType.OciManifest, { mediaType: MediaType.OciIndex, manifests: [{ digest: A }] })
        .children,
    ).toHaveLength(0);
  });
});
