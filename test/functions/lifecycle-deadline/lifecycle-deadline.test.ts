import { handler } from '../../../functions/lifecycle-deadline/handler';

const context = {
  functionName: 'lifecycle-deadline',
  awsRequestId: 'r-1',
  invokedFunctionArn: 'arn:aws:lambda:eu-west-1:123456789012:function:lifecycle-deadline',
  getRemainingTimeInMillis: () => 1000,
} as never;

describe('lifecycle deadline', () => {
  test('start plus the allowed seconds, as an ISO timestamp a Choice compares', async () => {
    expect(await handler({ from: '2026-01-10T08:00:00Z', seconds: 900 }, context)).toEqual({
      at: '2026-01-10T08:15:00.000Z',
    });
    expect(await handler({ from: '2026-01-10T23:59:30.500+01:00', seconds: 60 }, context)).toEqual({
      at: '2026-01-10T23:00:30.500Z',
    });
  });

  test('a malformed input fails the task with InvalidInputError', async () => {
    await expect(handler({ from: 'yesterday', seconds: 900 }, context)).rejects.toMatchObject({
      name: 'InvalidInputError',
    });
    await expect(handler({ from: '2026-01-10T08:00:00Z', seconds: -1 }, context)).rejects.toMatchObject({
      name: 'InvalidInputError',
    });
    await expect(handler({ from: '2026-01-10T08:00:00Z', seconds: 900, secs: 1 }, context)).rejects.toThrow(
      'invalid deadline input: (root): unknown key "secs"; expected {"from": "<ISO 8601 date-time>", "seconds": <positive integer>}',
    );
  });
});
