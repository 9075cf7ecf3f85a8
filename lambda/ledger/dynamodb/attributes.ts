import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** A DynamoDB item as the client sends and returns it. */
export type Item = Record<string, AttributeValue>;

/** Marshalling of the few attribute types the ledger uses: S, N, B, L of S, M of N. */
export const to = {
  s: (value: string): AttributeValue => ({ S: value }),
  n: (value: number): AttributeValue => ({ N: String(value) }),
  b: (value: Uint8Array): AttributeValue => ({ B: value }),
  strings: (values: readonly string[]): AttributeValue => ({ L: values.map((value) => ({ S: value })) }),
  numbers: (values: Readonly<Record<string, number>>): AttributeValue => ({
    M: Object.fromEntries(Object.entries(values).map(([key, value]) => [key, { N: String(value) }])),
  }),
} as const;

/** Unmarshalling; each reader returns undefined for an absent attribute. */
export const from = {
  s: (item: Item, name: string): string | undefined => item[name]?.S,
  n: (item: Item, name: string): number | undefined => {
    const value = item[name]?.N;
    return value === undefined ? undefined : Number(value);
  },
  date: (item: Item, name: string): Date | undefined => {
    const value = item[name]?.N;
    return value === undefined ? undefined : new Date(Number(value));
  },
  b: (item: Item, name: string): Uint8Array | undefined => item[name]?.B,
  strings: (item: Item, name: string): string[] | undefined =>
    item[name]?.L?.map((value) => value.S).filter((value): value is string => value !== undefined),
  numbers: (item: Item, name: string): Record<string, number> | undefined => {
    const map = item[name]?.M;
    return map && Object.fromEntries(Object.entries(map).map(([key, value]) => [key, Number(value.N)]));
  },
} as const;

/**
 * `ExpressionAttributeNames` for attribute names: every name is aliased (`#size`), since many
 * plain words (`size`, `used`, ...) are DynamoDB reserved words.
 */
export function names(...attributes: readonly string[]): Record<string, string> {
  return Object.fromEntries(attributes.map((attribute) => [`#${attribute}`, attribute]));
}

/** Epoch seconds, as the TTL attribute wants them (rounded up: never expire early). */
export function epochSeconds(at: Date | number): number {
  return Math.ceil((typeof at === 'number' ? at : at.getTime()) / 1000);
}
