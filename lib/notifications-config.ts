/** What the registry's endpoint config sends in place of the real token: the docs say where to get it. */
export const WEBHOOK_TOKEN_PLACEHOLDER = '<webhookToken from the secret>';

/** The registry's per-post timeout; the webhook function's own timeout matches it. */
export const NOTIFICATION_TIMEOUT_SECONDS = 10;

/**
 * The `notifications` block for the registry's `config.yml` (distribution 2.7 and later), as one
 * line of flow-style YAML that can be pasted at the top level of the config: it posts to the
 * webhook URL with the bearer token, and leaves out the events regsweep does not use, so they
 * cost no invocation: blob events and mounts always; without a ledger also pulls and deletes
 * (with one, the webhook records them: client pulls for `keepPulledWithin`, deletes to know
 * which manifests are gone).
 *
 * The token itself never goes into a stack output: the line carries a placeholder.
 */
export function notificationsConfig(webhookUrl: string, options: { ledger: boolean }): string {
  const ignoredActions = options.ledger ? 'mount' : 'pull, mount, delete';
  return (
    `notifications: {endpoints: [{name: regsweep, url: "${webhookUrl}", ` +
    `headers: {Authorization: ["Bearer ${WEBHOOK_TOKEN_PLACEHOLDER}"]}, ` +
    `timeout: ${NOTIFICATION_TIMEOUT_SECONDS}s, threshold: 5, backoff: 30s, ` +
    `ignore: {mediatypes: [application/octet-stream], actions: [${ignoredActions}]}}]}`
  );
}
