import { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent, SQSRecord } from 'aws-lambda';

import { readEnvironment } from '../../../lambda/aws/environment';
import { createSweepHandler } from '../../../lambda/handlers/sweep-handler';
import { createWorkerHandler } from '../../../lambda/handlers/worker-handler';
import { DynamoDbLedgerStore } from '../../../lambda/ledger';
import { RegistryClient } from '../../../lambda/registry';
import { loadEventFixture } from '../../fixtures/events';
import { startAwsFake, type AwsFake } from '../../helpers/aws-fake';
import { startDynalite, type Dynalite } from '../../../tools/dynalite';
import { fakeClientConfig, lambdaEnv } from '../../helpers/lambda';
import { pushBuilds } from '../../helpers/registry-fixture';
import { listTagsRaw } from '../../../tools/pusher';
import { startRegistry, type RegistryProcess } from '../../../tools/registry-process';

const TABLE = 'regsweep-budget';
const REPOSITORIES = Array.from({ length: 8 }, (_, index) => `apps/svc-${index}`);
/** Four builds each, keep 1: three removals per repository, 24 planned in all; the run allows 10. */
const BUDGET = 10;
const POLICY = {
  rules: [{ name: 'builds', repositories: ['apps/**'], keep: 1 }],
  limits: { maxDeletesPerRun: BUDGET },
};

/** The queued messages as SQS hands them to the worker, `size` per batch, in one FIFO group each. */
function batches(fake: AwsFake, size: number): SQSEvent[] {
  const template = loadEventFixture<SQSEvent>('sqs-cleanup-messages').Records[0] as SQSRecord;
  const records = fake.messages.map((message, index) => ({
    ...template,
    messageId: `message-${index}`,
    body: message.body,
    attributes: { ...template.attributes, MessageGroupId: message.groupId ?? '' },
  }));
  const result: SQSEvent[] = [];
  for (let start = 0; start < records.length; start += size)
    result.push({ Records: records.slice(start, start + size) });
  return result;
}

describe('Handlers: sweep and worker share one run budget (DynamoDB)', () => {
  let registry: RegistryProcess;
  let dynalite: Dynalite;
  let fake: AwsFake;

  beforeAll(async () => {
    [registry, dynalite, fake] = await Promise.all([startRegistry(), startDynalite(), startAwsFake()]);
    await dynalite.createLedgerTable(TABLE);
    for (const name of REPOSITORIES) await pushBuilds(registry.url, name, 4);
  });

  afterAll(async () => {
    await Promise.all([registry?.stop(), dynalite?.stop(), fake?.stop()]);
  });

  it('removes at most the budget over every worker of a scheduled run, skipping whole repositories', async () => {
    // Prepare: the handlers' factories with the real SDK against the fake queue and dynalite.
    const environment = readEnvironment(
      lambdaEnv(fake, registry.url, POLICY, { REGSWEEP_LEDGER_TABLE: TABLE }),
      {
        requireQueue: true,
      },
    );
    const ledger = new DynamoDbLedgerStore({ tableName: TABLE, clientConfig: dynalite.clientConfig });
    const client = new RegistryClient({ registry: registry.url });
    const sqs = new SQSClient(fakeClientConfig(fake));
    const sweep = createSweepHandler({ environment, client, sqs, ledger });
    const worker = createWorkerHandler({ environment, client, sqs, ledger });
    try {
      // Act: the schedule fires; the queued messages reach four workers side by side, two each.
      const scheduled = loadEventFixture<{ id: string }>('eventbridge-scheduled');
      const summary = await sweep(scheduled);
      const responses = await Promise.all(batches(fake, 2).map((event) => worker(event)));

      // Assess: the run was created with the budget, and the workers reserved no more than it.
      expect(summary.queued).toBe(REPOSITORIES.length);
      expect(responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
      const run = await ledger.getRun(scheduled.id);
      expect(run).toMatchObject({ trigger: 'schedule', budget: BUDGET });
      expect(run?.used).toBeLessThanOrEqual(BUDGET);
      const left = await Promise.all(
        REPOSITORIES.map(async (name) => (await listTagsRaw(registry.url, name)).length),
      );
      const removed = left.reduce((sum, count) => sum + (4 - count), 0);
      expect(removed).toBe(run?.used);
      // 3 + 3 + 3 fit in 10; every other repository kept all four builds (skipped whole).
      expect(removed).toBe(9);
      expect(left.sort()).toEqual([1, 1, 1, 4, 4, 4, 4, 4]);

      // A retried schedule event finds its run: the budget is not renewed.
      fake.messages.length = 0;
      await sweep(scheduled);
      expect((await ledger.getRun(scheduled.id))?.used).toBe(run?.used);
    } finally {
      sqs.destroy();
      await client.close();
      await ledger.close();
    }
  });
});
