import {
  isDigest,
  isRepositoryName,
  isTag,
  parseReference,
  repositoryNameProblem,
  InvalidReferenceError,
  MAX_REPOSITORY_NAME_LENGTH,
} from '../../../lambda/domain';

describe('Function: repositoryNameProblem', () => {
  it.each(['app', 'team/app', 'a/b/c', 'my-app', 'my__app', 'my.app', 'a--b', 'x1/y2'])(
    'accepts %s',
    (name) => {
      expect(repositoryNameProblem(name)).toBeUndefined();
      expect(isRepositoryName(name)).toBe(true);
    },
  );

  it.each([
    ['', 'empty'],
    ['App', 'component'],
    ['team//app', 'empty path component'],
    ['/app', 'empty path component'],
    ['app/', 'empty path component'],
    ['..', 'component'],
    ['team/../app', 'component'],
    ['team%2Fapp', 'component'],
    ['-app', 'component'],
    ['app_', 'component'],
    ['a___b', 'component'],
    ['a b', 'component'],
    ['a'.repeat(MAX_REPOSITORY_NAME_LENGTH + 1), 'longer than'],
  ])('rejects %j (%s)', (name, problem) => {
    expect(repositoryNameProblem(name)).toContain(problem);
  });

  it('rejects values that are not strings', () => {
    expect(isRepositoryName(42)).toBe(false);
    expect(isRepositoryName(undefined)).toBe(false);
  });
});

describe('Function: isTag', () => {
  it('accepts the OCI tag grammar and rejects the rest', () => {
    expect(isTag('latest')).toBe(true);
    expect(isTag('v1.2.3-rc.1')).toBe(true);
    expect(isTag('_x')).toBe(true);
    expect(isTag('a'.repeat(128))).toBe(true);
    expect(isTag('a'.repeat(129))).toBe(false);
    expect(isTag('.hidden')).toBe(false);
    expect(isTag('feature/x')).toBe(false);
    expect(isTag('')).toBe(false);
  });
});

describe('Function: isDigest', () => {
  it('checks the algorithm and the hex length', () => {
    expect(isDigest(`sha256:${'a'.repeat(64)}`)).toBe(true);
    expect(isDigest(`sha256:${'a'.repeat(63)}`)).toBe(false);
    expect(isDigest(`sha256:${'A'.repeat(64)}`)).toBe(false);
    expect(isDigest('sha256')).toBe(false);
  });
});

describe('Function: parseReference', () => {
  const registry = 'http://127.0.0.1:5000';
  const digest = `sha256:${'b'.repeat(64)}`;

  it('parses repository:tag, repository@digest and both', () => {
    expect(parseReference(registry, 'team/app:v1')).toEqual({ registry, repository: 'team/app', tag: 'v1' });
    expect(parseReference(registry, `team/app@${digest}`)).toEqual({
      registry,
      repository: 'team/app',
      digest,
    });
    expect(parseReference(registry, `app:v1@${digest}`)).toEqual({
      registry,
      repository: 'app',
      tag: 'v1',
      digest,
    });
  });

  it('rejects a bare repository, bad tags, bad digests and bad names', () => {
    expect(() => parseReference(registry, 'team/app')).toThrow(InvalidReferenceError);
    expect(() => parseReference(registry, 'team/app:.x')).toThrow(/invalid tag/);
    expect(() => parseReference(registry, 'team/app@sha256:zz')).toThrow(/invalid digest/);
    expect(() => parseReference(registry, 'Team/app:v1')).toThrow(/component/);
  });
});
