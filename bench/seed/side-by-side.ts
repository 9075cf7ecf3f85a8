import type { SeedRepository } from './scenario';

/**
 * The seed of issue 14's side-by-side measurement: R repositories × T tags, every tag its own
 * Docker schema2 image, kept 5 per repository. Build times are distinct and grow with the tag
 * number (`build-0099` is the newest), so name order and age order agree: a policy ordering by
 * `created` (which reads every config blob) and one ordering by `natural` (which reads none)
 * remove the same tags, R × (T − 5) of them (570 on the default 6 × 100).
 */

/** Tags each repository keeps: registry-cli's `--num 5`, the policy's `keep: 5`. */
export const SIDE_BY_SIDE_KEEP = 5;

/** `side/app-0` … with tags `build-0000` … (oldest first). */
export function sideBySideSeed(repositories: number, tagsPerRepository: number): SeedRepository[] {
  return Array.from({ length: repositories }, (_, repository) => {
    const name = `side/app-${repository}`;
    return {
      name,
      tags: Array.from({ length: tagsPerRepository }, (_, build) => {
        const tag = `build-${String(build).padStart(4, '0')}`;
        // One tenth of a day apart, the newest a day old: far from any boundary a plan could cross.
        return {
          tag,
          kind: 'docker' as const,
          seed: `${name}:${tag}`,
          ageDays: 1 + (tagsPerRepository - build) / 10,
        };
      }),
    };
  });
}

/** The orders the section measures: one reads ages (config blobs), one does not. */
export type SideBySideOrder = 'created' | 'natural';

/** Keep the newest {@link SIDE_BY_SIDE_KEEP} tags of every repository, by `order`. */
export function sideBySidePolicy(order: SideBySideOrder): object {
  return {
    rules: [
      {
        name: `keep-${SIDE_BY_SIDE_KEEP}-${order}`,
        repositories: ['side/**'],
        tags: 'build-\\d+',
        order,
        keep: SIDE_BY_SIDE_KEEP,
      },
    ],
  };
}
