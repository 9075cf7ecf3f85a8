import bcrypt from 'bcryptjs';

/** bcrypt's smallest cost: test passwords need no strength, and registry starts stay fast. */
export const BCRYPT_TEST_COST = 4;

/** One `htpasswd` line for distribution's htpasswd auth (bcrypt only): `username:<bcrypt>`. */
export function htpasswdLine(username: string, password: string): string {
  if (username.includes(':') || /[\r\n]/.test(username)) {
    throw new RangeError('an htpasswd username may not contain ":" or a line break');
  }
  return `${username}:${bcrypt.hashSync(password, BCRYPT_TEST_COST)}`;
}
