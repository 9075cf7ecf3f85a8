import { manifestLinks, MediaType, parseManifest } from '../../../lambda/domain';

const digest = (character: string): string => `sha256:${character.repeat(64)}`;

describe('Function: manifestLinks', () => {
  it("reads an index's children and tells which of them are indexes", () => {
    // Prepare
    const index = {
      schemaVersion: 2,
      manifests: [
        { mediaType: MediaType.OciIndex, digest: digest('a'), size: 1 },
        { mediaType: MediaType.OciManifest, digest: digest('b'), size: 1 },
        { mediaType: MediaType.DockerManifestList, digest: digest('c'), size: 1 },
        { mediaType: MediaType.OciManifest, digest: 'not-a-digest', size: 1 },
        null,
      ],
    };

    // Act
    const links = manifestLinks(parseManifest(MediaType.OciIndex, index));

    // Assess
    expect(links.children).toEqual([digest('a'), digest('b'), digest('c')]);
    expect(links.childIndexes).toEqual([digest('a'), digest('c')]);
  });

  it("reads any manifest's subject, and no children for an image", () => {
    const artifact = {
      schemaVersion: 2,
      subject: { mediaType: MediaType.OciManifest, digest: digest('d'), size: 9 },
    };

    expect(manifestLinks(parseManifest(MediaType.OciManifest, artifact))).toEqual({ subject: digest('d') });
    expect(
      manifestLinks(parseManifest(MediaType.OciManifest, { subject: { digest: 'sha256:short' } })),
    ).toEqual({});
  });
});
