const { DefaultReporter } = require('@jest/reporters');

/**
 * jest's default reporter without the line of each test file that passed with nothing to show: a
 * passing run prints the summary, not one line a file (their count would grow with the suite). A
 * file that failed, printed to the console, logged retries or updated snapshots is reported in
 * full, exactly as the default reporter does.
 */
class QuietReporter extends DefaultReporter {
  printTestFileHeader(testPath, config, result) {
    const quiet =
      result.numFailingTests === 0 &&
      !result.failureMessage &&
      !result.testExecError &&
      !result.console?.length &&
      result.testResults.every((test) => !test.retryReasons?.length);
    if (!quiet) super.printTestFileHeader(testPath, config, result);
  }
}

module.exports = QuietReporter;
