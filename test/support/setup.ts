import { recordFunctionCalls } from './iam/recorder';
import { output, outputMatchers, routePowertoolsOutput } from './output';

/**
 * The jest setup of every test file: a passing run prints jest's summary, not the functions' logs.
 *
 * Powertools' dev mode makes the Logger and Metrics print through the global console, as their own
 * tests rely on (https://docs.aws.amazon.com/powertools/typescript/latest/features/metrics/#testing-your-code);
 * the console then hands their records to test/support/output.ts, where the matchers below read
 * them. Dev mode turns metrics off unless POWERTOOLS_METRICS_DISABLED says otherwise: the EMF
 * documents are kept, for the tests that assert them.
 */
process.env.POWERTOOLS_DEV = 'true';
process.env.POWERTOOLS_METRICS_DISABLED = 'false';

routePowertoolsOutput(console);
expect.extend(outputMatchers);
beforeEach(() => output.clear());
// Every call a function's code sends to moto is checked against the function's synthesized role.
recordFunctionCalls();
