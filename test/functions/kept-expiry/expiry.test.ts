import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  EC2Client,
  type Instance,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { expireKeptInstances, throwOnFailure } from '../../../functions/kept-expiry/expiry';
import { TAG } from '../../../functions/lib/contract';
import { logger } from '../../../functions/lib/observability';

const ec2 = mockClient(EC2Client);
const sns = mockClient(SNSClient);
const HOUR = 3600_000;
const SINCE = '2026-03-01T10:00:00.000Z';
const at = (hours: number) => new Date(Date.parse(SINCE) + hours * HOUR);
const options = (now: Date) => ({
  stackName: 'external-worker-prod',
  topicArn: 'arn:aws:sns:eu-west-1:123456789012:topic',
  ttlSeconds: 24 * 3600,
  now,
});
const clients = () => ({ ec2: new EC2Client({}), sns: new SNSClient({}) });

function kept(id: string, tags: Record<string, string>): Instance {
  return {
    InstanceId: id,
    State: { Name: 'running' },
    Tags: Object.entries({
      [TAG.stack]: 'external-worker-prod',
      [TAG.kept]: 'boot failed at worker-key',
      ...tags,
    }).map(([Key, Value]) => ({ Key, Value })),
  };
}
const describing = (...instances: Instance[]) =>
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: instances }] });

beforeAll(() => logger.setLogLevel('SILENT'));
beforeEach(() => {
  ec2.reset();
  sns.reset();
  ec2.on(CreateTagsCommand).resolves({});
  ec2.on(TerminateInstancesCommand).resolves({});
  sns.on(PublishCommand).resolves({ MessageId: '1' });
});

describe('kept instance expiry', () => {
  test('looks up only the live kept instances of this stack', async () => {
    describing();
    await expireKeptInstances(clients(), options(at(1)));
    expect(ec2.commandCalls(DescribeInstancesCommand)[0]?.args[0].input.Filters).toEqual([
      { Name: `tag:${TAG.stack}`, Values: ['external-worker-prod'] },
      { Name: 'tag-key', Values: [TAG.kept] },
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ]);
  });

  test('a failed lookup terminates nothing and fails the run', async () => {
    ec2
      .on(DescribeInstancesCommand)
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'RequestLimitExceeded' }));
    await expect(expireKeptInstances(clients(), options(at(100)))).rejects.toThrow('Rate exceeded');
    expect(ec2.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });

  test('an hour before its end: one warning naming the end and how to release it, then the mark', async () => {
    describing(
      kept('i-0000000000000000a', { [TAG.keptSince]: SINCE, [TAG.keptUntil]: at(24).toISOString() }),
    );
    const result = await expireKeptInstances(clients(), options(at(23.05)));
    expect(result.instances).toEqual([
      { instanceId: 'i-0000000000000000a', action: 'warned', until: at(24.05).toISOString() },
    ]);
    const message = sns.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(message?.Subject).toBe('external-worker-prod: kept worker i-0000000000000000a ends in an hour');
    expect(message?.Message).toContain(`will be terminated at ${at(24.05).toISOString()}`);
    expect(message?.Message).toContain('external-worker release i-0000000000000000a');
    expect(message?.Message).toContain('boot failed at worker-key');
    expect(ec2.commandCalls(CreateTagsCommand)[0]?.args[0].input.Tags).toEqual([
      { Key: TAG.keptUntil, Value: at(24.05).toISOString() },
      { Key: TAG.keptWarned, Value: at(24.05).toISOString() },
    ]);
    expect(ec2.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
  });

  test('at its announced end: terminated and reported; not counted as expired', async () => {
    const end = at(24).toISOString();
    describing(
      kept('i-0000000000000000b', { [TAG.keptSince]: SINCE, [TAG.keptUntil]: end, [TAG.keptWarned]: end }),
    );
    const result = await expireKeptInstances(clients(), options(at(24.1)));
    expect(result).toEqual({
      instances: [{ instanceId: 'i-0000000000000000b', action: 'terminated', until: end }],
      expired: 0,
    });
    expect(ec2.commandCalls(TerminateInstancesCommand)[0]?.args[0].input).toEqual({
      InstanceIds: ['i-0000000000000000b'],
    });
    expect(sns.commandCalls(PublishCommand)[0]?.args[0].input.Subject).toContain('terminated');
  });

  test('a warning that could not be sent is not marked sent: the next run sends it', async () => {
    describing(kept('i-0000000000000000c', { [TAG.keptSince]: SINCE }));
    sns.on(PublishCommand).rejects(new Error('KMS key disabled'));
    const result = await expireKeptInstances(clients(), options(at(23.5)));
    expect(result.instances[0]).toMatchObject({ action: 'failed', detail: 'KMS key disabled' });
    expect(ec2.commandCalls(CreateTagsCommand)).toHaveLength(0);
    expect(() => throwOnFailure(result)).toThrow(/KeptExpiry|i-0000000000000000c \(KMS key disabled\)/);
  });

  test('a termination refused: counted as expired, the others still handled, the run fails', async () => {
    const end = at(24).toISOString();
    describing(
      kept('i-0000000000000000d', { [TAG.keptSince]: SINCE, [TAG.keptUntil]: end, [TAG.keptWarned]: end }),
      kept('i-0000000000000000e', { [TAG.keptSince]: SINCE, [TAG.keptUntil]: end, [TAG.keptWarned]: end }),
    );
    ec2
      .on(TerminateInstancesCommand, { InstanceIds: ['i-0000000000000000d'] })
      .rejects(
        Object.assign(new Error('The instance may not be terminated'), { name: 'OperationNotPermitted' }),
      );
    const result = await expireKeptInstances(clients(), options(at(25)));
    expect(result.instances.map((i) => i.action)).toEqual(['failed', 'terminated']);
    expect(result.expired).toBe(1);
    expect(() => throwOnFailure(result)).toThrow('i-0000000000000000d');
  });

  test('an unreadable end is left alone and counted once past the TTL', async () => {
    describing(kept('i-0000000000000000f', { [TAG.keptSince]: SINCE, [TAG.keptUntil]: 'soon' }));
    const result = await expireKeptInstances(clients(), options(at(30)));
    expect(result.instances[0]).toMatchObject({ action: 'unreadable' });
    expect(result.expired).toBe(1);
    expect(ec2.commandCalls(TerminateInstancesCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)).toHaveLength(0);
  });
});
