import {
  DeletionDisabledError,
  RegistryError,
  RegistryUnreachableError,
  UntagNotPermittedError,
  isTemporaryFailure,
  parseErrorBody,
  redactUrl,
} from '../../../lambda/registry/errors';

describe('Function: isTemporaryFailure', () => {
  it.each([
    ['GET', 429, undefined, true],
    ['DELETE', 502, undefined, true],
    ['PUT', 503, undefined, true],
    ['HEAD', 504, undefined, true],
    ['GET', 500, undefined, true],
    ['HEAD', 500, undefined, true],
    ['DELETE', 500, undefined, false],
    ['PUT', 500, undefined, false],
    ['GET', 404, 'MANIFEST_UNKNOWN', false],
    ['GET', 401, 'UNAUTHORIZED', false],
    ['DELETE', 405, 'UNSUPPORTED', false],
    ['GET', 400, 'TOOMANYREQUESTS', true],
    ['GET', undefined, 'ECONNRESET', true],
    ['GET', undefined, 'UND_ERR_SOCKET', true],
    ['GET', undefined, 'ECONNREFUSED', true],
    ['GET', undefined, 'ENOTFOUND', false],
    ['GET', undefined, 'UND_ERR_INVALID_ARG', false],
  ] as const)('%s answered %s %s → temporary %s', (method, statusCode, code, expected) => {
    // Act
    const temporary = isTemporaryFailure({ method, statusCode, code });

    // Assess
    expect(temporary).toBe(expected);
  });

  it('is what RegistryError.isTemporary() answers', () => {
    // Prepare
    const error = new RegistryError('x', { method: 'GET', url: 'http://127.0.0.1/', statusCode: 503 });

    // Act & Assess
    expect(error.isTemporary()).toBe(true);
  });
});

describe('Function: parseErrorBody', () => {
  it('reads code, message and detail of every entry', () => {
    // Prepare
    const body = Buffer.from(
      JSON.stringify({
        errors: [
          { code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: 'zz' } },
          { code: 'DENIED' },
          { message: 'no code: skipped' },
        ],
      }),
    );

    // Act
    const diagnostics = parseErrorBody(body);

    // Assess
    expect(diagnostics).toEqual([
      { code: 'NAME_UNKNOWN', message: 'repository name not known to registry', detail: { name: 'zz' } },
      { code: 'DENIED' },
    ]);
  });

  it('yields nothing for HTML, empty or odd bodies', () => {
    // Act & Assess
    expect(parseErrorBody(Buffer.from('<html>502 Bad Gateway</html>'))).toEqual([]);
    expect(parseErrorBody(Buffer.alloc(0))).toEqual([]);
    expect(parseErrorBody('null')).toEqual([]);
    expect(parseErrorBody('{"errors":"nope"}')).toEqual([]);
  });
});

describe('Function: redactUrl', () => {
  it('drops user info and redacts every query value but paging and scope', () => {
    // Act
    const redacted = redactUrl(
      'http://user:secret@127.0.0.1:5000/v2/a/blobs/uploads/uuid?_state=SIGNED&digest=sha256:abc&n=2&last=b&access_token=T0K3N',
    );

    // Assess
    expect(redacted).toBe(
      'http://127.0.0.1:5000/v2/a/blobs/uploads/uuid?_state=REDACTED&digest=sha256%3Aabc&n=2&last=b&access_token=REDACTED',
    );
    expect(redacted).not.toMatch(/secret|SIGNED|T0K3N/);
  });

  it('replaces an unparsable URL wholesale', () => {
    // Act & Assess
    expect(redactUrl('not a url password=hunter2')).toBe('<unparsable URL>');
  });
});

describe('Class: RegistryError', () => {
  it('stores a redacted URL and keeps the cause', () => {
    // Prepare
    const cause = new Error('socket hang up');

    // Act
    const error = new RegistryError('boom', {
      method: 'GET',
      url: 'http://u:p4ss@127.0.0.1/?token=abc',
      cause,
    });

    // Assess
    expect(error.url).toBe('http://127.0.0.1/?token=REDACTED');
    expect(error.cause).toBe(cause);
    expect(error).toBeInstanceOf(Error);
  });
});

describe('Class: DeletionDisabledError', () => {
  it('names the registry setting that turns deletion on', () => {
    // Act
    const error = new DeletionDisabledError('http://127.0.0.1:5000', {
      method: 'DELETE',
      url: 'http://127.0.0.1:5000/v2/a/manifests/sha256:00',
      statusCode: 405,
      code: 'UNSUPPORTED',
    });

    // Assess
    expect(error.message).toContain('storage.delete.enabled');
    expect(error.message).toContain('HTTP 405 UNSUPPORTED');
    expect(error).toBeInstanceOf(RegistryError);
  });
});

describe('Class: RegistryUnreachableError', () => {
  it('says which registry cannot be reached', () => {
    // Act
    const error = new RegistryUnreachableError('http://127.0.0.1:1', 'connect ECONNREFUSED', {
      method: 'GET',
      url: 'http://127.0.0.1:1/v2/',
      code: 'ECONNREFUSED',
    });

    // Assess
    expect(error.message).toBe('cannot reach the registry at http://127.0.0.1:1: connect ECONNREFUSED');
  });
});

describe('Class: UntagNotPermittedError', () => {
  it('explains that untagging needs push rights', () => {
    // Act
    const error = new UntagNotPermittedError('apps/web', 'old', 'the push of a placeholder manifest', {
      method: 'PUT',
      url: 'http://127.0.0.1/',
      statusCode: 403,
    });

    // Assess
    expect(error.message).toMatch(
      /cannot untag apps\/web:old: the registry refused the push of a placeholder manifest \(HTTP 403\).*push rights/,
    );
  });
});
