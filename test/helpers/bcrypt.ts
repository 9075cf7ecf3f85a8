import { randomBytes } from 'node:crypto';

/**
 * A small bcrypt ($2a$) so the harness can write `htpasswd` files without the `htpasswd` tool
 * (apache2-utils) or an npm dependency: distribution's htpasswd auth accepts bcrypt entries only.
 * Test-only: it is slow next to a native bcrypt and takes no care against timing attacks.
 */

/** The cheapest cost the registry's Go bcrypt accepts: keeps every authenticated request fast. */
export const BCRYPT_MIN_COST = 4;

const BLOWFISH_ROUNDS = 16;
const P_WORDS = BLOWFISH_ROUNDS + 2;
const S_WORDS = 4 * 256;
const MAX_KEY_BYTES = 72;
const SALT_BYTES = 16;
const HASH_BYTES = 23;
const MAGIC = 'OrpheanBeholderScryDoubt';

const BCRYPT_ALPHABET = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const STANDARD_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

let initialState: Uint32Array | undefined;

/**
 * Blowfish's initial P-array and S-boxes are the hexadecimal digits of pi's fraction, in order.
 * Computing them (Machin's formula on BigInt, a few ms) spares 1,042 pasted constants.
 */
function blowfishInitialState(): Uint32Array {
  if (initialState) return initialState;
  const words = P_WORDS + S_WORDS;
  const bits = BigInt(words * 32);
  const guardBits = 64n;
  const one = 1n << (bits + guardBits);
  const pi = (16n * arctanOfInverse(5n, one) - 4n * arctanOfInverse(239n, one)) >> guardBits;
  const fraction = pi - (3n << bits);
  const state = new Uint32Array(words);
  for (let index = 0; index < words; index += 1) {
    state[index] = Number((fraction >> (bits - BigInt((index + 1) * 32))) & 0xffffffffn);
  }
  if (state[0] !== 0x243f6a88) throw new Error('bcrypt: pi digits came out wrong');
  initialState = state;
  return state;
}

/** arctan(1/x) scaled by `one`, from its Taylor series. */
function arctanOfInverse(x: bigint, one: bigint): bigint {
  const xSquared = x * x;
  let power = one / x;
  let sum = power;
  let divisor = 1n;
  let negative = true;
  while (power !== 0n) {
    power /= xSquared;
    divisor += 2n;
    sum += negative ? -(power / divisor) : power / divisor;
    negative = !negative;
  }
  return sum;
}

class Blowfish {
  private readonly p: Uint32Array;
  private readonly s: Uint32Array;
  private readonly block = new Uint32Array(2);

  public constructor() {
    const state = blowfishInitialState();
    this.p = state.slice(0, P_WORDS);
    this.s = state.slice(P_WORDS);
  }

  /** Enciphers `block[0], block[1]` in place. */
  public encipher(block: Uint32Array): void {
    const { p, s } = this;
    let left = block[0]! ^ p[0]!;
    let right = block[1]!;
    const round = (x: number): number =>
      (((s[x >>> 24]! + s[256 + ((x >>> 16) & 0xff)]!) ^ s[512 + ((x >>> 8) & 0xff)]!) +
        s[768 + (x & 0xff)]!) >>>
      0;
    for (let index = 1; index <= BLOWFISH_ROUNDS; index += 2) {
      right ^= round(left) ^ p[index]!;
      left ^= round(right) ^ p[index + 1]!;
    }
    block[0] = (right ^ p[P_WORDS - 1]!) >>> 0;
    block[1] = left >>> 0;
  }

  /** Blowfish's key schedule, optionally mixing in `salt` (bcrypt's "expensive" variant). */
  public expand(key: Uint8Array, salt?: Uint8Array): void {
    const keyStream = new WordStream(key);
    for (let index = 0; index < P_WORDS; index += 1)
      this.p[index] = (this.p[index]! ^ keyStream.next()) >>> 0;
    const saltStream = salt ? new WordStream(salt) : undefined;
    const block = this.block;
    block[0] = 0;
    block[1] = 0;
    const fill = (target: Uint32Array): void => {
      for (let index = 0; index < target.length; index += 2) {
        if (saltStream) {
          block[0] = block[0]! ^ saltStream.next();
          block[1] = block[1]! ^ saltStream.next();
        }
        this.encipher(block);
        target[index] = block[0]!;
        target[index + 1] = block[1]!;
      }
    };
    fill(this.p);
    fill(this.s);
  }
}

/** Reads big-endian 32-bit words from bytes, wrapping around at the end. */
class WordStream {
  private offset = 0;
  public constructor(private readonly bytes: Uint8Array) {}
  public next(): number {
    let word = 0;
    for (let index = 0; index < 4; index += 1) {
      word = ((word << 8) | this.bytes[this.offset]!) >>> 0;
      this.offset = (this.offset + 1) % this.bytes.length;
    }
    return word;
  }
}

function encodeBcryptBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('base64')
    .replace(/=+$/, '')
    .replace(/[A-Za-z0-9+/]/g, (char) => BCRYPT_ALPHABET[STANDARD_ALPHABET.indexOf(char)]!);
}

function decodeBcryptBase64(text: string): Buffer {
  const standard = text.replace(
    /[./A-Za-z0-9]/g,
    (char) => STANDARD_ALPHABET[BCRYPT_ALPHABET.indexOf(char)]!,
  );
  return Buffer.from(standard, 'base64');
}

/**
 * bcrypt of `password` as `$2a$<cost>$<salt><hash>`. `salt` is the 22-character bcrypt-base64
 * salt (random when omitted): passing one reproduces published test vectors.
 */
export function bcryptHash(password: string, cost: number = BCRYPT_MIN_COST, salt?: string): string {
  if (!Number.isInteger(cost) || cost < BCRYPT_MIN_COST || cost > 16) {
    throw new RangeError(`bcrypt cost must be an integer from ${BCRYPT_MIN_COST} to 16, got ${cost}`);
  }
  const saltBytes =
    salt === undefined ? randomBytes(SALT_BYTES) : decodeBcryptBase64(salt).subarray(0, SALT_BYTES);
  if (saltBytes.length !== SALT_BYTES)
    throw new RangeError('bcrypt salt must be 22 bcrypt-base64 characters');
  // $2a$ hashes the password with its terminating NUL, cut at 72 bytes.
  const key = Buffer.concat([Buffer.from(password, 'utf8'), Buffer.alloc(1)]).subarray(0, MAX_KEY_BYTES);

  const blowfish = new Blowfish();
  blowfish.expand(key, saltBytes);
  for (let round = 0; round < 2 ** cost; round += 1) {
    blowfish.expand(key);
    blowfish.expand(saltBytes);
  }

  const magic = Buffer.from(MAGIC, 'latin1');
  const words = new Uint32Array(magic.length / 4);
  for (let index = 0; index < words.length; index += 1) words[index] = magic.readUInt32BE(index * 4);
  const block = new Uint32Array(2);
  for (let repeat = 0; repeat < 64; repeat += 1) {
    for (let index = 0; index < words.length; index += 2) {
      block[0] = words[index]!;
      block[1] = words[index + 1]!;
      blowfish.encipher(block);
      words[index] = block[0]!;
      words[index + 1] = block[1]!;
    }
  }
  const hash = Buffer.alloc(words.length * 4);
  words.forEach((word, index) => hash.writeUInt32BE(word, index * 4));

  const costText = String(cost).padStart(2, '0');
  return `$2a$${costText}$${encodeBcryptBase64(saltBytes)}${encodeBcryptBase64(hash.subarray(0, HASH_BYTES))}`;
}

/** One `htpasswd` line for distribution's htpasswd auth: `username:<bcrypt>`. */
export function htpasswdLine(username: string, password: string): string {
  if (username.includes(':') || /[\r\n]/.test(username)) {
    throw new RangeError('an htpasswd username may not contain ":" or a line break');
  }
  return `${username}:${bcryptHash(password)}`;
}
