import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenOnLoopback } from '../../tools/ports';

/** One SendMessageBatch entry as the fake received it. */
export interface ReceivedMessage {
  readonly queueUrl: string;
  readonly id: string;
  readonly body: string;
  readonly groupId?: string;
  readonly deduplicationId?: string;
}

/** One ChangeMessageVisibility call as the fake received it. */
export interface VisibilityChange {
  readonly queueUrl: string;
  readonly receiptHandle: string;
  readonly visibilityTimeout: number;
}

export interface AwsFakeOptions {
  /** Secret values by ARN or name, as the SecretString. */
  readonly secrets?: Record<string, string>;
}

/**
 * A local stand-in for the two AWS APIs regsweep calls, speaking their real wire protocol (AWS
 * JSON 1.0/1.1 with `X-Amz-Target`), so the real SDK clients are exercised end to end:
 * Secrets Manager `GetSecretValue`, SQS `SendMessageBatch` (answering the MD5 of each body,
 * which the SDK verifies) and SQS `ChangeMessageVisibility` (recorded). Point the SDK at it with `AWS_ENDPOINT_URL_SECRETS_MANAGER` and
 * `AWS_ENDPOINT_URL_SQS` (see `awsEnv`).
 */
export class AwsFake {
  public readonly messages: ReceivedMessage[] = [];
  public readonly visibilityChanges: VisibilityChange[] = [];
  public readonly calls: string[] = [];
  public secrets: Record<string, string>;
  /** Entry ids (or `*`) that SendMessageBatch reports as failed, to exercise partial failures. */
  public failEntries = new Set<string>();
  /** When set, every call answers this HTTP status with an AWS error body. */
  public failAll?: number;
  private server?: Server;
  private origin?: string;

  public constructor(options: AwsFakeOptions = {}) {
    this.secrets = { ...(options.secrets ?? {}) };
  }

  public get url(): string {
    if (!this.origin) throw new Error('AwsFake is not started');
    return this.origin;
  }

  /**
   * A queue URL on the fake itself. Tests must use one: the SQS client sends to the QueueUrl's host
   * (not the configured endpoint) when they differ, which would leave 127.0.0.1.
   */
  public queueUrl(name = 'regsweep.fifo'): string {
    return `${this.url}/123456789012/${name}`;
  }

  /** The environment that points the SDK's clients here (fake credentials, a region). */
  public env(): Record<string, string> {
    return {
      AWS_ENDPOINT_URL_SECRETS_MANAGER: this.url,
      AWS_ENDPOINT_URL_SQS: this.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIDFAKEFORTESTS',
      AWS_SECRET_ACCESS_KEY: 'fake-secret-for-tests',
    };
  }

  public async start(): Promise<this> {
    this.server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        respond(response, 500, { __type: 'InternalFailure', message: String(error) });
      });
    });
    this.origin = await listenOnLoopback(this.server);
    return this;
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = String(request.headers['x-amz-target'] ?? '');
    this.calls.push(target);
    if (this.failAll) {
      respond(response, this.failAll, { __type: 'ServiceUnavailable', message: 'injected failure' });
      return;
    }
    const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
    switch (target) {
      case 'secretsmanager.GetSecretValue':
        return this.getSecretValue(input, response);
      case 'AmazonSQS.SendMessageBatch':
        return this.sendMessageBatch(input, response);
      case 'AmazonSQS.ChangeMessageVisibility':
        this.visibilityChanges.push({
          queueUrl: String(input.QueueUrl),
          receiptHandle: String(input.ReceiptHandle),
          visibilityTimeout: Number(input.VisibilityTimeout),
        });
        return respond(response, 200, {});
      default:
        respond(response, 400, { __type: 'UnknownOperationException', message: `unsupported: ${target}` });
    }
  }

  private getSecretValue(input: Record<string, unknown>, response: ServerResponse): void {
    const id = String(input.SecretId);
    const value = this.secrets[id];
    if (value === undefined) {
      respond(response, 400, {
        __type: 'ResourceNotFoundException',
        message: "Secrets Manager can't find the specified secret.",
      });
      return;
    }
    respond(response, 200, {
      ARN: id,
      Name: id.split(':').pop(),
      SecretString: value,
      VersionId: randomUUID(),
      VersionStages: ['AWSCURRENT'],
      CreatedDate: Date.now() / 1000,
    });
  }

  private sendMessageBatch(input: Record<string, unknown>, response: ServerResponse): void {
    const queueUrl = String(input.QueueUrl);
    const entries = (input.Entries ?? []) as Array<Record<string, string>>;
    const successful: unknown[] = [];
    const failed: unknown[] = [];
    for (const entry of entries) {
      const id = String(entry.Id);
      if (this.failEntries.has(id) || this.failEntries.has('*')) {
        failed.push({ Id: id, SenderFault: false, Code: 'InternalError', Message: 'injected failure' });
        continue;
      }
      const body = String(entry.MessageBody);
      this.messages.push({
        queueUrl,
        id,
        body,
        ...(entry.MessageGroupId && { groupId: entry.MessageGroupId }),
        ...(entry.MessageDeduplicationId && { deduplicationId: entry.MessageDeduplicationId }),
      });
      successful.push({
        Id: id,
        MessageId: randomUUID(),
        MD5OfMessageBody: createHash('md5').update(body, 'utf8').digest('hex'),
        SequenceNumber: String(this.messages.length).padStart(20, '0'),
      });
    }
    respond(response, 200, { Successful: successful, Failed: failed });
  }
}

function respond(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': 'application/x-amz-json-1.0',
    'content-length': Buffer.byteLength(text),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(text);
}

/** Starts a fake with the given secrets. */
export async function startAwsFake(options: AwsFakeOptions = {}): Promise<AwsFake> {
  return new AwsFake(options).start();
}
