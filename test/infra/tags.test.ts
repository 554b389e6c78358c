import { CfnResource, Stack, TagManager } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { synth } from '../support/stack';

// Every resource the stack creates, and every resource its launches and builds create, carries the
// customer, project and env tags (the original's cost and ownership tags) and the stack's tag.
// Which CloudFormation types take tags is CDK's knowledge: each L1 class whose type has a tag
// property in the CloudFormation resource specification carries a TagManager.

type Json = Record<string, unknown>;
const CUSTOMER_PARAMETER = { Ref: 'Customer' };

/** The tag property of a taggable L1 resource, as CloudFormation names it. */
function tagProperty(construct: IConstruct): string | undefined {
  const manager = TagManager.isTaggable(construct)
    ? construct.tags
    : TagManager.isTaggableV2(construct)
      ? construct.cdkTagManager
      : undefined;
  if (!manager) return undefined;
  const name = manager.tagPropertyName;
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Tags as a map, whether the template lists them ({Key, Value}) or maps them. */
function tagMap(value: unknown): Json {
  if (Array.isArray(value)) {
    return Object.fromEntries((value as Array<{ Key: string; Value: unknown }>).map((t) => [t.Key, t.Value]));
  }
  return (value ?? {}) as Json;
}

function taggable(context: Record<string, unknown>) {
  const { stack, template } = synth(context);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties?: Json }>;
  return stack.node
    .findAll()
    .filter((c): c is CfnResource => CfnResource.isCfnResource(c))
    .flatMap((resource) => {
      const property = tagProperty(resource);
      if (!property) return [];
      const logicalId = Stack.of(resource).resolve(resource.logicalId) as string;
      const synthesized = resources[logicalId];
      if (!synthesized) return [];
      return [{ logicalId, type: synthesized.Type, tags: tagMap(synthesized.Properties?.[property]) }];
    });
}

const expectedTags = (customer: unknown) => ({
  customer,
  project: 'external-worker',
  env: 'prod',
  'external-worker:stack': 'external-worker-prod',
});

describe.each([
  ['a deploy parameter', {}, CUSTOMER_PARAMETER],
  ['configured', { customer: 'acme', extraTags: { team: 'ci' } }, 'acme'],
])('with the customer %s', (_how, context: Record<string, unknown>, customer) => {
  const resources = taggable(context);

  test('the walk covers the stack: functions, state machines, roles, queues, the group, Image Builder', () => {
    const types = new Set(resources.map((r) => r.type));
    for (const type of [
      'AWS::Lambda::Function',
      'AWS::StepFunctions::StateMachine',
      'AWS::IAM::Role',
      'AWS::SQS::Queue',
      'AWS::SNS::Topic',
      'AWS::Logs::LogGroup',
      'AWS::EC2::SecurityGroup',
      'AWS::AutoScaling::AutoScalingGroup',
      'AWS::ImageBuilder::ImagePipeline',
      'AWS::ImageBuilder::ImageRecipe',
      'AWS::ImageBuilder::Component',
      'AWS::ImageBuilder::InfrastructureConfiguration',
      'AWS::ImageBuilder::DistributionConfiguration',
    ]) {
      expect(types).toContain(type);
    }
    expect(resources.length).toBeGreaterThan(50);
  });

  test('every resource whose type takes tags carries them', () => {
    const wanted = Object.entries(expectedTags(customer));
    const missing = resources
      .filter((r) => !wanted.every(([key, value]) => JSON.stringify(r.tags[key]) === JSON.stringify(value)))
      .map((r) => `${r.logicalId} (${r.type}): ${JSON.stringify(r.tags)}`);
    expect(missing).toEqual([]);
    if (context.extraTags) {
      for (const r of resources) expect(r.tags).toMatchObject({ team: 'ci' });
    }
  });

  test('what the launches create: instances, volumes, network interfaces, and the launch template', () => {
    const { template } = synth(context);
    const [launchTemplate] = Object.values(template.findResources('AWS::EC2::LaunchTemplate')) as Array<{
      Properties: { TagSpecifications: Json[]; LaunchTemplateData: { TagSpecifications: Json[] } };
    }>;
    const specs = [
      ...(launchTemplate?.Properties.TagSpecifications ?? []),
      ...(launchTemplate?.Properties.LaunchTemplateData.TagSpecifications ?? []),
    ];
    expect(specs.map((s) => s.ResourceType)).toEqual([
      'launch-template',
      'instance',
      'volume',
      'network-interface',
    ]);
    for (const spec of specs) expect(tagMap(spec.Tags)).toMatchObject(expectedTags(customer));
    const [group] = Object.values(template.findResources('AWS::AutoScaling::AutoScalingGroup')) as Array<{
      Properties: { Tags: Array<Json> };
    }>;
    for (const key of Object.keys(expectedTags(customer))) {
      expect(group?.Properties.Tags).toContainEqual(
        expect.objectContaining({ Key: key, PropagateAtLaunch: true }),
      );
    }
  });

  test('what the image builds create: the AMIs and the build instances', () => {
    const { template } = synth(context);
    const [distribution] = Object.values(
      template.findResources('AWS::ImageBuilder::DistributionConfiguration'),
    ) as Array<{ Properties: { Distributions: Array<{ AmiDistributionConfiguration: { AmiTags: Json } }> } }>;
    for (const target of distribution?.Properties.Distributions ?? []) {
      expect(target.AmiDistributionConfiguration.AmiTags).toMatchObject(expectedTags(customer));
    }
    const [infrastructure] = Object.values(
      template.findResources('AWS::ImageBuilder::InfrastructureConfiguration'),
    ) as Array<{ Properties: { ResourceTags: Json } }>;
    expect(infrastructure?.Properties.ResourceTags).toMatchObject(expectedTags(customer));
  });
});
