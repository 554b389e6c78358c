const VALID_ENV = {
  SCHEDULER_API_ADDRESS: 'https://scheduler.example.com',
  STATE_PARAMETER: '/external-worker/prod/version-state',
  BUILD_VERSION_PARAMETER: '/external-worker/prod/build-version',
  IMAGE_PIPELINE_ARN: 'arn:aws:imagebuilder:eu-west-1:123456789012:image-pipeline/external-worker-prod',
  TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:notifications',
};

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

/** Loads the handler module afresh, as a cold start does, with `env` as its environment. */
function coldStart(env: Record<string, string | undefined>): unknown {
  process.env = { ...saved, ...env };
  let loaded: unknown;
  jest.isolateModules(() => {
    loaded = require('../../../functions/version-check/handler');
  });
  return loaded;
}

describe('version-check handler', () => {
  test('starts with a complete environment', () => {
    expect(coldStart(VALID_ENV)).toHaveProperty('handler');
    expect(coldStart({ ...VALID_ENV, WORKER_VERSION: '7.11.2', REQUEST_TIMEOUT_MS: '2000' })).toHaveProperty(
      'handler',
    );
  });

  test.each(Object.keys(VALID_ENV))('a missing %s fails the cold start with its name', (name) => {
    expect(() => coldStart({ ...VALID_ENV, [name]: undefined })).toThrow(
      expect.objectContaining({
        name: 'ConfigurationError',
        message: expect.stringContaining(`${name} is not set`),
      }),
    );
  });

  test.each([
    ['IMAGE_PIPELINE_ARN', 'not-an-arn'],
    ['STATE_PARAMETER', 'version-state'],
    ['WORKER_VERSION', 'latest'],
    ['REQUEST_TIMEOUT_MS', '5s'],
    ['SCHEDULER_API_ADDRESS', 'scheduler'],
  ])('a malformed %s fails the cold start with its name', (name, value) => {
    expect(() => coldStart({ ...VALID_ENV, [name]: value })).toThrow(
      expect.objectContaining({
        name: 'ConfigurationError',
        message: expect.stringContaining(`${name} is malformed`),
      }),
    );
  });
});
