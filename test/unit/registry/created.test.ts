import {
  CREATED_ANNOTATION,
  imageCreated,
  newestDate,
  plausibleCreated,
  schema1Created,
} from '../../../lambda/registry/created';

describe('Function: plausibleCreated', () => {
  it('treats the reproducible-build epoch, garbage and absence as unknown', () => {
    // Act & Assess
    expect(plausibleCreated('2026-11-01T10:00:00Z')?.toISOString()).toBe('2026-11-01T10:00:00.000Z');
    expect(plausibleCreated('1970-01-01T00:00:00Z')).toBeUndefined();
    expect(plausibleCreated('1979-12-31T23:59:59Z')).toBeUndefined();
    expect(plausibleCreated('1980-01-01T00:00:00Z')).toBeInstanceOf(Date);
    expect(plausibleCreated('yesterday-ish')).toBeUndefined();
    expect(plausibleCreated('')).toBeUndefined();
    expect(plausibleCreated(1730000000)).toBeUndefined();
    expect(plausibleCreated(undefined)).toBeUndefined();
  });
});

describe('Function: imageCreated', () => {
  it('prefers the config created, then the label, then the manifest annotation', () => {
    // Prepare
    const manifest = { annotations: { [CREATED_ANNOTATION]: '2026-03-03T00:00:00Z' } };
    const labelled = { config: { Labels: { [CREATED_ANNOTATION]: '2026-02-02T00:00:00Z' } } };

    // Act & Assess
    expect(imageCreated(manifest, { ...labelled, created: '2026-01-01T00:00:00Z' })?.toISOString()).toBe(
      '2026-01-01T00:00:00.000Z',
    );
    expect(imageCreated(manifest, { ...labelled, created: '1970-01-01T00:00:00Z' })?.toISOString()).toBe(
      '2026-02-02T00:00:00.000Z',
    );
    expect(imageCreated(manifest, { created: '1970-01-01T00:00:00Z' })?.toISOString()).toBe(
      '2026-03-03T00:00:00.000Z',
    );
    expect(imageCreated({}, { created: '1970-01-01T00:00:00Z' })).toBeUndefined();
    expect(imageCreated({}, undefined)).toBeUndefined();
  });
});

describe('Function: schema1Created', () => {
  it('reads the newest history entry', () => {
    // Prepare
    const manifest = {
      history: [
        { v1Compatibility: JSON.stringify({ created: '2025-05-05T05:05:05Z' }) },
        { v1Compatibility: JSON.stringify({ created: '2020-01-01T00:00:00Z' }) },
      ],
    };

    // Act & Assess
    expect(schema1Created(manifest)?.toISOString()).toBe('2025-05-05T05:05:05.000Z');
    expect(schema1Created({ history: [{ v1Compatibility: '{not json' }] })).toBeUndefined();
    expect(schema1Created({})).toBeUndefined();
  });
});

describe('Function: newestDate', () => {
  it('ignores unknown dates', () => {
    // Act & Assess
    expect(newestDate([undefined, new Date(5), new Date(9), undefined, new Date(1)])?.getTime()).toBe(9);
    expect(newestDate([undefined])).toBeUndefined();
  });
});
