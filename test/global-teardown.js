// After the suite: removes the run's temp directory (see global-setup.js), whatever the tests
// left in it.
const { rmSync } = require('node:fs');

module.exports = async () => {
  const runDir = process.env.REGSWEEP_TEST_RUN_DIR;
  if (runDir) rmSync(runDir, { recursive: true, force: true });
};
