/**
 * Imported first by bench entry points that run a Lambda handler in process: the handler's
 * Powertools metrics would print an EMF line per invocation to stdout, which the bench's own
 * report uses. Set before the handler's modules are loaded (they read it at import).
 */
process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
