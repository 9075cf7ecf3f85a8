import { bcryptHash, htpasswdLine } from '../../helpers/bcrypt';

describe('Function: bcryptHash', () => {
  // Published vectors (jBCrypt's test suite and Openwall's crypt_blowfish wrapper tests).
  it.each([
    ['', 6, 'DCq7YPn5Rq63x1Lad4cll.', '$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.'],
    ['abc', 6, 'If6bvum7DFjUnE9p2uDeDu', '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i'],
    ['U*U', 5, 'CCCCCCCCCCCCCCCCCCCCC.', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
  ])('hashes %j at cost %d to the published value', (password, cost, salt, expected) => {
    // Act
    const hash = bcryptHash(password, cost, salt);

    // Assess
    expect(hash).toBe(expected);
  });

  it('uses a fresh random salt on each call', () => {
    // Act
    const first = bcryptHash('secret');
    const second = bcryptHash('secret');

    // Assess
    expect(first).toMatch(/^\$2a\$04\$[./A-Za-z0-9]{53}$/);
    expect(first).not.toBe(second);
  });

  it('rejects a cost the registry would not accept', () => {
    // Act & Assess
    expect(() => bcryptHash('secret', 3)).toThrow(RangeError);
  });
});

describe('Function: htpasswdLine', () => {
  it('refuses a username that would break the file format', () => {
    // Act & Assess
    expect(() => htpasswdLine('a:b', 'secret')).toThrow(/may not contain/);
  });
});
