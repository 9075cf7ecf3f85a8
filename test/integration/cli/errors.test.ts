import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../helpers/cli';
import { freePort } from '../../../tools/ports';
import { listTagsRaw, pushImage } from '../../../tools/pusher';
import { startRegistry } from '../../../tools/registry-process';

function writePolicy(text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'regsweep-policy-')), 'policy.yaml');
  writeFileSync(file, text);
  return file;
}

describe('CLI: policy errors', () => {
  it.each([
    ['rules:\n  - name: a\n    tags: "(main"\n    keep: 1\n', 'rules[0].tags'],
    ['rules:\n  - name: a\n    keep: -1\n', 'rules[0].keep'],
    ['rules:\n  - name: a\n    olderThan: 14x\n', 'rules[0].olderThan'],
    ['rules:\n  - name: a\n    keep: 1\n  - name: b\n    olderthan: 7d\n', 'rules[1]'],
  ])('exits 2 and names the field for %j', async (text, field) => {
    // Act: the registry URL points nowhere: a bad policy must fail before any request.
    const result = await runCli(['plan', '--registry', 'http://127.0.0.1:1', '--policy', writePolicy(text)]);

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(field);
    expect(result.stdout).toBe('');
  });

  it('validate accepts ledger fields and says which commands need a ledger for them', async () => {
    // Act
    const result = await runCli([
      'validate',
      '--policy',
      writePolicy('rules:\n  - name: prs\n    tags: pr-.*\n    olderThan: 7d\n    keepPulledWithin: 30d\n'),
    ]);

    // Assess
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      'needs a ledger (plan and sweep: --ledger FILE; serve records into ./regsweep-ledger.db by default) for: rules[0].keepPulledWithin',
    );
  });

  it('validate says valid for a good policy and exits 2 for a bad one', async () => {
    const good = await runCli([
      'validate',
      '--policy',
      join(__dirname, '..', '..', '..', 'examples', 'policy.yaml'),
    ]);
    expect(good.status).toBe(0);
    expect(good.stdout).toContain('valid');

    const bad = await runCli(['validate', '--policy', writePolicy('protect: ["[unclosed"]\n')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('protect[0]');
  });

  it.each([
    ['http://127.0.0.1:1/v2', 'it has a path (/v2)'],
    ['http://127.0.0.1:1/?mirror=1', 'it has a query'],
    ['ftp://127.0.0.1:1', 'ftp:'],
  ])('validate refuses the registry %s that sweep refuses', async (registry, reason) => {
    // Prepare: a policy that is valid but for its registry (the port points nowhere).
    const rules = 'rules:\n  - name: a\n    keep: 1\n';

    // Act
    const sweep = await runCli(['sweep', '--registry', registry, '--policy', writePolicy(rules)]);
    const validate = await runCli(['validate', '--policy', writePolicy(`registry: ${registry}\n${rules}`)]);

    // Assess: both exit 2 before any request, and validate names the field.
    expect(sweep.status).toBe(2);
    expect(sweep.stderr).toContain(reason);
    expect(validate.status).toBe(2);
    expect(validate.stderr).toContain('registry:');
    expect(validate.stdout).not.toContain('valid');
  });

  it('exits 2 for a missing policy file and for usage errors', async () => {
    expect(
      (await runCli(['plan', '--registry', 'http://127.0.0.1:1', '--policy', '/nonexistent.yaml'])).status,
    ).toBe(2);
    expect((await runCli(['frobnicate'])).status).toBe(2);
    const noRegistry = await runCli(['plan', '--policy', writePolicy('rules: [{name: a, keep: 1}]\n')]);
    expect(noRegistry.status).toBe(2);
    expect(noRegistry.stderr).toContain('--registry');
  });
});

describe('CLI: registry errors', () => {
  it('exits 2 when the registry cannot be reached, saying where it looked', async () => {
    // Prepare: a port with nothing listening.
    const port = await freePort();

    // Act
    const result = await runCli([
      'plan',
      '--registry',
      `http://127.0.0.1:${port}`,
      '--policy',
      writePolicy('rules: [{name: a, keep: 1}]\n'),
    ]);

    // Assess
    expect(result.status).toBe(2);
    expect(result.stderr).toContain(`127.0.0.1:${port}`);
  });

  it('exits 2 on bad credentials without printing the password', async () => {
    // Prepare
    const registry = await startRegistry({ htpasswd: { username: 'ci', password: 'right-password-1' } });
    try {
      // Act
      const result = await runCli(
        ['plan', '--registry', registry.url, '--policy', writePolicy('rules: [{name: a, keep: 1}]\n')],
        { REGSWEEP_USERNAME: 'ci', REGSWEEP_PASSWORD: 'wrong-password-2' },
      );

      // Assess
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(/auth|credential|401/i);
      expect(`${result.stdout}${result.stderr}`).not.toContain('wrong-password-2');
    } finally {
      await registry.stop();
    }
  });

  it('works with Basic credentials from the environment', async () => {
    const registry = await startRegistry({ htpasswd: { username: 'ci', password: 'right-password-1' } });
    try {
      const auth = { username: 'ci', password: 'right-password-1' };
      await pushImage(registry.url, 'team/app', 'pr-1', { auth, created: '2020-01-01T00:00:00Z' });
      await pushImage(registry.url, 'team/app', 'pr-2', { auth });
      const result = await runCli(
        [
          'sweep',
          '--registry',
          registry.url,
          '--policy',
          writePolicy('rules: [{name: prs, tags: "pr-.*", olderThan: 7d}]\n'),
        ],
        { REGSWEEP_USERNAME: 'ci', REGSWEEP_PASSWORD: 'right-password-1' },
      );
      expect(result.status).toBe(0);
      expect(await listTagsRaw(registry.url, 'team/app', auth)).toEqual(['pr-2']);
    } finally {
      await registry.stop();
    }
  });
});
