import {
  TokenCache,
  formatScope,
  mergeScopes,
  parseChallenges,
  parseScopes,
  repositoryScope,
  scopesCover,
} from '../../../lambda/registry/auth';

describe('Function: parseChallenges', () => {
  it('reads a Bearer challenge with a quoted scope that contains commas', () => {
    // Prepare
    const header =
      'Bearer realm="http://127.0.0.1:9000/token",service="registry.local",scope="repository:apps/web:pull,push"';

    // Act
    const challenges = parseChallenges(header);

    // Assess
    expect(challenges).toEqual([
      {
        scheme: 'bearer',
        parameters: {
          realm: 'http://127.0.0.1:9000/token',
          service: 'registry.local',
          scope: 'repository:apps/web:pull,push',
        },
      },
    ]);
  });

  it('reads several challenges in one header and across repeated headers', () => {
    // Prepare
    const headers = [
      'Basic realm="basic-realm", Bearer realm="https://auth.example/t", error="invalid_token"',
      'Negotiate abc==',
    ];

    // Act
    const challenges = parseChallenges(headers);

    // Assess
    expect(challenges.map((challenge) => challenge.scheme)).toEqual(['basic', 'bearer', 'negotiate']);
    expect(challenges[1]?.parameters).toEqual({ realm: 'https://auth.example/t', error: 'invalid_token' });
  });

  it('handles unquoted values, odd spacing, escaped quotes and case', () => {
    // Act
    const [challenge] = parseChallenges('BEARER  Realm = https://a/t ,  service=svc, note="say \\"hi\\""');

    // Assess
    expect(challenge).toEqual({
      scheme: 'bearer',
      parameters: { realm: 'https://a/t', service: 'svc', note: 'say "hi"' },
    });
  });

  it('yields nothing for an absent or empty header', () => {
    // Act & Assess
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('  ,  ')).toEqual([]);
  });
});

describe('Function: parseScopes', () => {
  it('splits type, name and actions, keeping colons inside the name', () => {
    // Act
    const scopes = parseScopes('repository:host:5000/app:pull,push registry:catalog:*');

    // Assess
    expect(scopes).toEqual([
      { type: 'repository', name: 'host:5000/app', actions: ['pull', 'push'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    expect(scopes.map(formatScope).join(' ')).toBe('repository:host:5000/app:pull,push registry:catalog:*');
  });

  it('ignores malformed parts', () => {
    // Act & Assess
    expect(parseScopes('nonsense repository:onlyname')).toEqual([]);
    expect(parseScopes(undefined)).toEqual([]);
  });
});

describe('Function: mergeScopes', () => {
  it('unions the actions of the same resource in first-seen order', () => {
    // Act
    const merged = mergeScopes(
      [repositoryScope('a', 'pull', 'delete')],
      parseScopes('repository:a:delete,push repository:b:pull'),
    );

    // Assess
    expect(merged.map(formatScope)).toEqual(['repository:a:pull,delete,push', 'repository:b:pull']);
  });
});

describe('Function: scopesCover', () => {
  it('accepts a superset of actions and a wildcard, refuses another resource or a missing action', () => {
    // Prepare
    const granted = [
      repositoryScope('a', 'pull', 'delete'),
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ];

    // Act & Assess
    expect(scopesCover(granted, [repositoryScope('a', 'pull')])).toBe(true);
    expect(scopesCover(granted, [{ type: 'registry', name: 'catalog', actions: ['*'] }])).toBe(true);
    expect(scopesCover(granted, [repositoryScope('a', 'push')])).toBe(false);
    expect(scopesCover(granted, [repositoryScope('b', 'pull')])).toBe(false);
    expect(scopesCover(granted, [])).toBe(true);
  });
});

describe('Class: TokenCache', () => {
  describe('Method: find', () => {
    it('serves a covering token until shortly before it expires', () => {
      // Prepare
      let now = 1_000_000;
      const cache = new TokenCache(() => now);
      cache.store([repositoryScope('a', 'pull', 'delete')], 'token-1', 60_000);

      // Act
      const early = cache.find([repositoryScope('a', 'pull')]);
      now += 49_000;
      const beforeMargin = cache.find([repositoryScope('a', 'pull')]);
      now += 2_000;
      const afterMargin = cache.find([repositoryScope('a', 'pull')]);

      // Assess: renewed 10 s (the margin) before the 60 s lifetime ends
      expect(early).toBe('token-1');
      expect(beforeMargin).toBe('token-1');
      expect(afterMargin).toBeUndefined();
    });

    it('scales the margin down for short-lived tokens', () => {
      // Prepare
      let now = 0;
      const cache = new TokenCache(() => now);
      cache.store([], 'short', 2_000);

      // Act
      now = 1_500;
      const within = cache.find([]);
      now = 1_700;
      const past = cache.find([]);

      // Assess: margin is a fifth of 2 s, so renewal happens at 1.6 s
      expect(within).toBe('short');
      expect(past).toBeUndefined();
    });
  });

  describe('Method: invalidate', () => {
    it('forgets a refused token', () => {
      // Prepare
      const cache = new TokenCache();
      cache.store([repositoryScope('a', 'pull')], 'refused', 60_000);

      // Act
      cache.invalidate('refused');

      // Assess
      expect(cache.find([repositoryScope('a', 'pull')])).toBeUndefined();
    });
  });
});
