import { runCli } from '../../helpers/cli';
import { headDigestRaw, listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

describe('CLI: regsweep delete', () => {
  let registry: RegistryProcess;

  beforeEach(async () => {
    registry = await startRegistry();
  });

  afterEach(async () => {
    await registry.stop();
  });

  it('removes only the named tag when another tag holds the same digest', async () => {
    // Prepare: `old` and `latest` share one digest.
    const { digest } = await pushImage(registry.url, 'team/app', 'old', { seed: 'one' });
    await pushImage(registry.url, 'team/app', 'latest', { seed: 'one' });

    // Act
    const result = await runCli(['delete', '--registry', registry.url, 'team/app:old']);

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toMatch(/untagged team\/app:old/);
    expect(result.stdout).toContain('latest');
    expect(await listTagsRaw(registry.url, 'team/app')).toEqual(['latest']);
    expect(await headDigestRaw(registry.url, 'team/app', 'latest')).toBe(digest);
  });

  it('deletes the manifest when no other tag holds it', async () => {
    const { digest } = await pushImage(registry.url, 'team/app', 'lonely');
    await pushImage(registry.url, 'team/app', 'other');

    const result = await runCli(['delete', '--registry', registry.url, 'team/app:lonely']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`deleted team/app:lonely (${digest}`);
    expect(await headDigestRaw(registry.url, 'team/app', digest)).toBeUndefined();
    expect(await listTagsRaw(registry.url, 'team/app')).toEqual(['other']);
  });

  it('with --digest removes the digest and says which tags went with it', async () => {
    await pushImage(registry.url, 'team/app', 'a', { seed: 'same' });
    await pushImage(registry.url, 'team/app', 'b', { seed: 'same' });
    await pushImage(registry.url, 'team/app', 'c', { seed: 'different' });

    const result = await runCli(['delete', '--registry', registry.url, '--digest', 'team/app:a']);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain('every tag on it: a, b');
    expect(await listTagsRaw(registry.url, 'team/app')).toEqual(['c']);
  });

  it('refuses REPO:TAG@DIGEST when the tag no longer points at DIGEST, saying where it points now', async () => {
    // Prepare: the user looked at `app:b` when it was `old`; it was pushed again since.
    const { digest: old } = await pushImage(registry.url, 'team/app', 'b', { seed: 'old' });
    const { digest: now } = await pushImage(registry.url, 'team/app', 'b', { seed: 'new' });

    // Act
    const result = await runCli(['delete', '--registry', registry.url, `team/app:b@${old}`]);

    // Assess: nothing removed.
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`team/app:b points at ${now} now, not ${old}`);
    expect(await headDigestRaw(registry.url, 'team/app', 'b')).toBe(now);
    expect(await headDigestRaw(registry.url, 'team/app', old)).toBe(old);
  });

  it('removes REPO:TAG@DIGEST while the tag still points at DIGEST', async () => {
    const { digest } = await pushImage(registry.url, 'team/app', 'b', { seed: 'pinned' });
    await pushImage(registry.url, 'team/app', 'other');

    const result = await runCli(['delete', '--registry', registry.url, `team/app:b@${digest}`]);

    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`deleted team/app:b@${digest}`);
    expect(await listTagsRaw(registry.url, 'team/app')).toEqual(['other']);
  });

  it('exits 2 for --force without --digest: a tag removal never takes another tag down', async () => {
    await pushImage(registry.url, 'team/app', 'a');

    const result = await runCli(['delete', '--registry', registry.url, '--force', 'team/app:a']);

    expect(result.status).toBe(2);
    expect(await listTagsRaw(registry.url, 'team/app')).toEqual(['a']);
  });

  it('exits 2 for a tag that does not exist or a malformed reference', async () => {
    await pushImage(registry.url, 'team/app', 'a');
    expect((await runCli(['delete', '--registry', registry.url, 'team/app:nope'])).status).toBe(2);
    expect((await runCli(['delete', '--registry', registry.url, 'Team/App:a'])).status).toBe(2);
    expect(await listTagsRaw(registry.url, 'team/app')).toEqual(['a']);
  });
});
