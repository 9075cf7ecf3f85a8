import { appendFileSync } from 'node:fs';

/**
 * Appends one line of measurements to the file named by `REGSWEEP_REPORT_FILE`, when set: stress
 * and load tests record what they injected and measured there (for a human's report) without
 * printing to the test output.
 */
export function recordMeasurement(test: string, values: Record<string, unknown>): void {
  const file = process.env.REGSWEEP_REPORT_FILE;
  if (!file) return;
  appendFileSync(file, `${JSON.stringify({ test, at: new Date().toISOString(), ...values })}\n`);
}
