// Before the suite: builds the CLI bundle once (integration tests run it as a user would), and
// points TMPDIR at one directory of this run, which the teardown removes. Jest workers do not
// always see their own 'exit', and the CDK makes a `cdk.out` temp dir for every App without an
// outdir: without this, each run would leave dozens of directories in /tmp.
const { execFileSync } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

module.exports = async () => {
  execFileSync(process.execPath, [join(__dirname, '..', 'scripts', 'build.mjs'), '--cli'], {
    stdio: 'inherit',
  });
  const runDir = mkdtempSync(join(tmpdir(), 'regsweep-test-run-'));
  process.env.REGSWEEP_TEST_RUN_DIR = runDir;
  process.env.TMPDIR = runDir;
};
