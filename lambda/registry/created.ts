/**
 * Image age. The registry API has no "created": it lives in the config blob (`created`), in the
 * `org.opencontainers.image.created` label, or in the manifest's annotations. Reproducible builds
 * stamp 1970, which says nothing about age, so such dates count as unknown.
 */

import { asJsonObject } from '../domain';

/** The OCI annotation (and conventional label) holding the build time. */
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';
/** Dates before this are placeholders (the epoch of reproducible builds), not build times. */
export const EARLIEST_PLAUSIBLE_CREATED_MS = Date.UTC(1980, 0, 1);

/** A plausible build time from a JSON value, or undefined (missing, unparsable, before 1980). */
export function plausibleCreated(value: unknown): Date | undefined {
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time) || time < EARLIEST_PLAUSIBLE_CREATED_MS) return undefined;
  return new Date(time);
}

/**
 * The build time of a single-platform image: the config's `created`, else its
 * `org.opencontainers.image.created` label, else the manifest annotation; the first plausible one.
 */
export function imageCreated(
  manifest: { readonly annotations?: Readonly<Record<string, unknown>> },
  config: Record<string, unknown> | undefined,
): Date | undefined {
  const labels = record(record(config?.config)?.Labels);
  return (
    plausibleCreated(config?.created) ??
    plausibleCreated(labels?.[CREATED_ANNOTATION]) ??
    plausibleCreated(manifest.annotations?.[CREATED_ANNOTATION])
  );
}

/** The build time of a legacy schema1 manifest: `created` of its newest `v1Compatibility` entry. */
export function schema1Created(manifest: Record<string, unknown>): Date | undefined {
  const history = manifest.history;
  if (!Array.isArray(history)) return undefined;
  const compatibility = record(history[0])?.v1Compatibility;
  if (typeof compatibility !== 'string') return undefined;
  try {
    return plausibleCreated(record(JSON.parse(compatibility))?.created);
  } catch {
    return undefined;
  }
}

/** The newest of some dates, ignoring unknown ones. */
export function newestDate(dates: ReadonlyArray<Date | undefined>): Date | undefined {
  let newest: Date | undefined;
  for (const date of dates) if (date && (!newest || date.getTime() > newest.getTime())) newest = date;
  return newest;
}

const record = asJsonObject;
