import { randomBytes } from 'node:crypto';

import { MediaType, sha256Digest, type Digest } from '../domain';
import { repositoryScope, type Scope } from './auth';
import {
  AuthenticationError,
  DeletionDisabledError,
  ForeignHostError,
  RegistryError,
  UntagNotPermittedError,
  isDeletionDisabled,
  responseError,
} from './errors';
import { firstHeader } from './http';
import { deleteByDigest, putManifest, resolveManifest, sendDigestDelete, untrueNotFound } from './manifests';
import { EMPTY_BLOB, EMPTY_DESCRIPTOR, placeholderManifest } from './placeholder';
import type { RegistrySession } from './session';

/**
 * Removes `repository:tag` without touching any other tag.
 *
 * 1. `DELETE /manifests/<tag>`: tag-only deletion (OCI spec, distribution 3).
 * 2. Refused (distribution 2.x: 400 DIGEST_INVALID; others: 405/UNSUPPORTED for tags): re-point
 *    the tag at a unique placeholder manifest and delete the placeholder by digest, which takes
 *    the tag with it and nothing else (no other tag can share a unique digest).
 *
 * A 405 on the tag delete may also mean deletion is off altogether; that is told apart by
 * deleting a digest that cannot exist (404 = deletion works) before anything is pushed, so a
 * registry that cannot delete never ends up with its tag pointing at a placeholder.
 */
export async function untag(
  session: RegistrySession,
  repository: string,
  tag: string,
): Promise<'delete-tag' | 'placeholder'> {
  // One token for the whole sequence: the tag delete, the push and the placeholder delete.
  const scopes = [repositoryScope(repository, 'pull', 'push', 'delete')];
  const what = `tag ${repository}:${tag}`;
  const response = await permitted(repository, tag, 'the tag delete', () =>
    session.send({
      method: 'DELETE',
      url: `${session.origin}/v2/${repository}/manifests/${tag}`,
      kind: 'delete-manifest',
      scopes,
      what,
    }),
  );
  if (response.status >= 200 && response.status < 300) return 'delete-tag';
  if (response.status === 404) {
    // Gone already, which is what was asked, unless the tag still resolves (a HEAD tells).
    const still = await resolveManifest(session, repository, tag);
    if (still === null) return 'delete-tag';
    throw untrueNotFound(response, `deleting ${what}`, `the tag still resolves to ${still.digest}`);
  }
  const refusal = responseError(response, 'DELETE', `deleting ${what}`);
  if (isDeletionDisabled(refusal)) {
    // A digest that cannot exist: 404 means deleting works (and needs no checking).
    const probe = sha256Digest(randomBytes(32));
    await sendDigestDelete(session, repository, probe, scopes);
  } else if (response.status !== 400) {
    throw refusal;
  }
  await ensureEmptyBlob(session, repository, tag, scopes);
  const placeholder = await permitted(repository, tag, 'the push of a placeholder manifest', () =>
    putManifest(session, repository, tag, MediaType.OciManifest, placeholderManifest(tag), scopes),
  );
  try {
    await permitted(repository, tag, 'the delete of the placeholder manifest', () =>
      deleteByDigest(session, repository, placeholder, scopes),
    );
  } catch (error) {
    if (error instanceof DeletionDisabledError || error instanceof UntagNotPermittedError) throw error;
    throw new RegistryError(
      `untagging ${what}: the tag now points at the placeholder ${placeholder}, but deleting it failed; ` +
        `delete ${repository}@${placeholder} to finish: ${(error as Error).message}`,
      { method: 'DELETE', url: `${session.origin}/v2/${repository}/manifests/${placeholder}`, cause: error },
    );
  }
  return 'placeholder';
}

/** The placeholder's config (the empty blob `{}`) must exist in the repository: HEAD, else upload it. */
async function ensureEmptyBlob(
  session: RegistrySession,
  repository: string,
  tag: string,
  scopes: readonly Scope[],
): Promise<void> {
  const digest: Digest = EMPTY_DESCRIPTOR.digest;
  const what = `the empty blob in ${repository}`;
  const exists = async (): Promise<boolean> => {
    const head = await session.send({
      method: 'HEAD',
      url: `${session.origin}/v2/${repository}/blobs/${digest}`,
      kind: 'head-blob',
      scopes,
      what,
    });
    if (head.status !== 200 && head.status !== 404) throw responseError(head, 'HEAD', `checking ${what}`);
    return head.status === 200;
  };
  if (await exists()) return;
  await permitted(repository, tag, 'the upload of the empty config blob', async () => {
    const start = await session.send({
      method: 'POST',
      url: `${session.origin}/v2/${repository}/blobs/uploads/`,
      kind: 'upload-blob',
      scopes,
      what: `uploading ${what}`,
      // Starting an upload twice only leaves an unused session, which the registry purges.
      idempotent: true,
    });
    const location = firstHeader(start.headers.location);
    if (start.status !== 202 || location === undefined) {
      throw responseError(start, 'POST', `starting the upload of ${what}`);
    }
    const target = new URL(location, start.url);
    if (target.origin !== session.origin) {
      throw new ForeignHostError(
        `the registry sent an upload location on ${target.origin}; refusing to upload there`,
        {
          method: 'POST',
          url: start.url,
        },
      );
    }
    target.searchParams.set('digest', digest);
    const finish = await session.send({
      method: 'PUT',
      url: target.toString(),
      kind: 'upload-blob',
      scopes,
      headers: { 'content-type': 'application/octet-stream' },
      body: EMPTY_BLOB,
      // Content-addressed: a second PUT of the same bytes under the same digest changes nothing.
      idempotent: true,
      what: `uploading ${what}`,
    });
    if (finish.status !== 201 && finish.status !== 204) {
      // A retried PUT whose first attempt completed the upload (only the answer was lost) finds
      // the upload session gone (404 BLOB_UPLOAD_UNKNOWN), and the blob in place.
      if (finish.status === 404 && (await exists())) return;
      throw responseError(finish, 'PUT', `uploading ${what}`);
    }
  });
}

/**
 * Turns a refusal of one step (401 with a fresh token: insufficient scope; 403 / DENIED) into
 * {@link UntagNotPermittedError}, which the engine reports as "shared: cannot untag". Refused
 * credentials stay an {@link AuthenticationError}: that is a configuration problem, not a right.
 */
async function permitted<T>(
  repository: string,
  tag: string,
  step: string,
  run: () => Promise<T>,
): Promise<T> {
  try {
    return await run();
  } catch (error) {
    const refused =
      (error instanceof AuthenticationError && error.failure === 'insufficient-scope') ||
      (!(error instanceof AuthenticationError) &&
        error instanceof RegistryError &&
        (error.statusCode === 403 || error.code === 'DENIED'));
    if (!refused) throw error;
    throw new UntagNotPermittedError(repository, tag, step, {
      method: error.method,
      url: error.url,
      ...(error.statusCode !== undefined && { statusCode: error.statusCode }),
      ...(error.code !== undefined && { code: error.code }),
      ...(error.diagnostics && { diagnostics: error.diagnostics }),
      cause: error,
    });
  }
}
