// Runs one bundled Lambda handler as the Lambda runtime would, in a fresh Node process: loads the
// bundle (timing the import: that is the cold start's module load), invokes the handler once
// with an event from a file, and writes `{importMs, result}` or `{importMs, error}` as JSON to a
// file (stdout carries the handler's own logs and metrics).
//
// Usage: node invoke-bundle.js <bundle dir> <handler, e.g. index.handler> <event file> <result file>
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const path = require('node:path');

const [directory, handlerName, eventFile, resultFile] = process.argv.slice(2);
const [file, exportName] = handlerName.split('.');
const event = JSON.parse(readFileSync(eventFile, 'utf8'));
const context = {
  awsRequestId: `smoke-${process.pid}`,
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  getRemainingTimeInMillis: () => 60_000,
};

const started = process.hrtime.bigint();
const handler = require(path.join(directory, `${file}.js`))[exportName];
const importMs = Number(process.hrtime.bigint() - started) / 1e6;

const finish = (outcome) => {
  writeFileSync(resultFile, JSON.stringify({ importMs, ...outcome }));
  // Keep-alive sockets would hold the process open; writes to a pipe are synchronous on Linux.
  process.exit(outcome.error ? 1 : 0);
};
Promise.resolve()
  .then(() => handler(event, context))
  .then(
    (result) => finish({ result }),
    (error) => finish({ error: { name: error.name, message: error.message } }),
  );
