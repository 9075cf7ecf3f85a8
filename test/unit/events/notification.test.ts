import {
  CLOUDEVENTS_JSON,
  DISTRIBUTION_EVENTS_V1,
  parseNotification,
  WebhookPayloadError,
} from '../../../lambda/events';
import { readEventFixture } from '../../fixtures/events';

describe('Function: parseNotification', () => {
  it.each([
    ['malformed JSON', '{"events": [', 'not valid JSON'],
    ['an empty body', '', 'not valid JSON'],
    ['a JSON array', '[{"events":[]}]', 'not a JSON object'],
    ['a JSON string', '"events"', 'not a JSON object'],
    ['null', 'null', 'not a JSON object'],
    ['an unknown object', '{"hello":"world"}', 'unrecognized notification format'],
    [
      'a non-Harbor CloudEvent',
      '{"specversion":"1.0","id":"1","type":"com.example.push","data":{}}',
      'unrecognized',
    ],
    ['events that are not an array', '{"events":{"0":{}}}', "'events' is not an array"],
  ])('rejects %s with a WebhookPayloadError', (_case, body, message) => {
    // Act
    const parse = () => parseNotification(body, DISTRIBUTION_EVENTS_V1);

    // Assess
    expect(parse).toThrow(WebhookPayloadError);
    expect(parse).toThrow(message);
  });

  it('keeps the JSON error as cause but says nothing of the body in its message', () => {
    // Prepare
    const body = '{"token": "secret-value-in-body" ';

    // Act
    let caught: unknown;
    try {
      parseNotification(body);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(WebhookPayloadError);
    expect((caught as WebhookPayloadError).message).not.toContain('secret');
    expect((caught as WebhookPayloadError).cause).toBeInstanceOf(SyntaxError);
    expect((caught as WebhookPayloadError).code).toBe('WEBHOOK_PAYLOAD_INVALID');
  });

  it('requires a CloudEvent when the content type says cloudevents', () => {
    // Act
    const parse = () => parseNotification(readEventFixture('distribution-push-manifest'), CLOUDEVENTS_JSON);

    // Assess
    expect(parse).toThrow('unrecognized notification format');
  });

  it('detects each format from its shape when the content type is generic or missing', () => {
    // Act
    const formats = [
      parseNotification(readEventFixture('distribution-push-manifest'), 'application/json').format,
      parseNotification(readEventFixture('harbor-push')).format,
      parseNotification(readEventFixture('harbor-cloudevents-push'), 'application/json; charset=utf-8')
        .format,
    ];

    // Assess
    expect(formats).toEqual(['distribution', 'harbor', 'harbor-cloudevents']);
  });

  it('accepts a body that starts with a byte order mark', () => {
    // Act
    const parsed = parseNotification(`\uFEFF${readEventFixture('distribution-push-manifest')}`);

    // Assess
    expect(parsed.repositories).toHaveLength(1);
  });
});
