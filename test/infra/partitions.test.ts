import { synth } from '../support/stack';

/** The partition of every literal ARN in the template's resources (ARNs built from tokens are left out). */
function literalPartitions(resources: unknown): Set<string> {
  const found = new Set<string>();
  const visit = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const match of value.matchAll(/\barn:([a-z-]+):/g)) found.add(match[1] as string);
    } else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(resources);
  return found;
}

describe.each([
  ['eu-west-1', 'aws'],
  ['cn-north-1', 'aws-cn'],
  ['us-gov-west-1', 'aws-us-gov'],
])('in %s', (region, partition) => {
  // synth() throws on any cdk-nag finding left unacknowledged: the acknowledgements must name this partition's ARNs.
  const { template, stack } = synth({ region });
  const resources = template.toJSON().Resources as Record<string, { Type: string }>;
  // The definitions' Task resources (`arn:aws:states:::aws-sdk:…`) are the state machines' own concern.
  const withoutDefinitions = Object.values(resources).filter(
    (resource) => resource.Type !== 'AWS::StepFunctions::StateMachine',
  );

  test(`the stack is in ${partition}, and so is every ARN the template writes out`, () => {
    expect(stack.partition).toBe(partition);
    expect([...literalPartitions(withoutDefinitions)]).toEqual([partition]);
  });

  test('snapshot ARNs carry no account', () => {
    const snapshotArns = JSON.stringify(resources).match(/arn:[^"]*?:ec2:[^"]*?snapshot\/[^"]*/g) ?? [];
    expect(snapshotArns.length).toBeGreaterThan(0);
    for (const arn of snapshotArns)
      expect(arn).toMatch(new RegExp(`^arn:${partition}:ec2:${region}::snapshot/`));
  });
});
