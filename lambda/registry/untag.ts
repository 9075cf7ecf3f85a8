import { randomBytes } from 'node:crypto';

import { MediaType, sha256Digest, type Digest } from '../domain';
import { repositoryScope, type Scope } from './auth';
import type { RegistryClient } from './client';
import {
  AuthenticationError,
  DeletionDisabledError,
  ForeignHostError,
  RegistryError,
  UntagNotPermittedError,
  isDeletionDisabled,
} from './errors';
import { putManifest } from './manifests';
import { EMPTY_BLOB, EMPTY_DESCRIPTOR, placeholderManifest } from './placeholder';
import { firstHeader } from './transport';

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
  client: RegistryClient,
  repository: string,
  tag: string,
): Promise<'delete-tag' | 'placeholder'> {
  // One token for the whole sequence: the tag delete, the push and the placeholder delete.
  const scopes = [repositoryScope(repository, 'pull', 'push', 'delete')];
  const what = `tag ${repository}:${tag}`;
  const response = await client.send({
    method: 'DELETE',
    url: `${client.registry}/v2/${repository}/manifests/${tag}`,
    kind: 'delete-manifest',
    scopes,
    what,
  });
  // 404: the tag is gone already, which is what was asked.
  if ((response.status >= 200 && response.status < 300) || response.status === 404) return 'delete-tag';
  const refusal = client.responseError(response, 'DELETE', `deleting ${what}`);
  if (isDeletionDisabled(refusal)) {
    const probe = sha256Digest(randomBytes(32));
    await client.deleteByDigest(repository, probe, scopes);
  } else if (response.status !== 400) {
    throw refusal;
  }
  await ensureEmptyBlob(client, repository, tag, scopes);
  const placeholder = await withPushRights(repository, tag, () =>
    putManifest(client, repository, tag, MediaType.OciManifest, placeholderManifest(tag), scopes),
  );
  try {
    await client.deleteByDigest(repository, placeholder, scopes);
  } catch (error) {
    if (error instanceof DeletionDisabledError) throw error;
    throw new RegistryError(
      `untagging ${what}: the tag now points at the placeholder ${placeholder}, but deleting it failed; ` +
        `delete ${repository}@${placeholder} to finish: ${(error as Error).message}`,
      { method: 'DELETE', url: `${client.registry}/v2/${repository}/manifests/${placeholder}`, cause: error },
    );
  }
  return 'placeholder';
}

/** The placeholder's config (the empty blob `{}`) must exist in the repository: HEAD, else upload it. */
async function ensureEmptyBlob(
  client: RegistryClient,
  repository: string,
  tag: string,
  scopes: readonly Scope[],
): Promise<void> {
  const digest: Digest = EMPTY_DESCRIPTOR.digest;
  const what = `the empty blob in ${repository}`;
  const head = await client.send({
    method: 'HEAD',
    url: `${client.registry}/v2/${repository}/blobs/${digest}`,
    kind: 'head-blob',
    scopes,
    what,
  });
  if (head.status === 200) return;
  if (head.status !== 404) throw client.responseError(head, 'HEAD', `checking ${what}`);
  await withPushRights(repository, tag, async () => {
    const start = await client.send({
      method: 'POST',
      url: `${client.registry}/v2/${repository}/blobs/uploads/`,
      kind: 'upload-blob',
      scopes,
      what: `uploading ${what}`,
      idempotent: false,
    });
    const location = firstHeader(start.headers.location);
    if (start.status !== 202 || location === undefined) {
      throw client.responseError(start, 'POST', `starting the upload of ${what}`);
    }
    const target = new URL(location, start.url);
    if (target.origin !== client.registry) {
      throw new ForeignHostError(
        `the registry sent an upload location on ${target.origin}; refusing to upload there`,
        {
          method: 'POST',
          url: start.url,
        },
      );
    }
    target.searchParams.set('digest', digest);
    const finish = await client.send({
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
      throw client.responseError(finish, 'PUT', `uploading ${what}`);
    }
  });
}

/** Turns a refusal of a push (401 after a fresh token, 403, DENIED) into {@link UntagNotPermittedError}. */
async function withPushRights<T>(repository: string, tag: string, push: () => Promise<T>): Promise<T> {
  try {
    return await push();
  } catch (error) {
    const refused =
      error instanceof AuthenticationError ||
      (error instanceof RegistryError && (error.statusCode === 403 || error.code === 'DENIED'));
    if (!refused) throw error;
    const registryError = error as RegistryError;
    throw new UntagNotPermittedError(repository, tag, {
      method: registryError.method,
      url: registryError.url,
      ...(registryError.statusCode !== undefined && { statusCode: registryError.statusCode }),
      ...(registryError.code !== undefined && { code: registryError.code }),
      ...(registryError.diagnostics && { diagnostics: registryError.diagnostics }),
      cause: error,
    });
  }
}
