import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as imagebuilder from 'aws-cdk-lib/aws-imagebuilder';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3assets from 'aws-cdk-lib/aws-s3-assets';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import type { Architecture } from './architecture';
import { acknowledgeGuardRule } from './guard';

/** Construct id of the singleton function CDK creates behind every AwsCustomResource of a stack. */
const PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

export interface PlaybookRebuildProps {
  pipeline: imagebuilder.CfnImagePipeline;
  playbook: s3assets.Asset;
  /** The workers' architecture: a deploy that changes it starts a build for the new one too. */
  architecture: Architecture;
  logRetention: logs.RetentionDays;
}

/**
 * A deploy that changes ansible/ starts one build: the call's properties carry the playbook's
 * asset hash, so CloudFormation updates this resource (and so calls Image Builder) only when the
 * playbook changed, and the client token (the same hash) makes a retried update start nothing new.
 * The stack's first deploy starts nothing here: the version check's first poll builds. The token
 * names a non-default architecture too, so that moving the instance types to Graviton (or back from
 * it) builds at once instead of leaving the fleet on the stock AMI until the next version.
 */
export class PlaybookRebuild extends Construct {
  readonly resource: cr.AwsCustomResource;

  constructor(scope: Construct, id: string, props: PlaybookRebuildProps) {
    super(scope, id);
    const imagePipelineArn = props.pipeline.attrArn;
    const physicalResourceId = cr.PhysicalResourceId.of('playbook-rebuild');
    this.resource = new cr.AwsCustomResource(this, 'Trigger', {
      resourceType: 'Custom::PlaybookRebuild',
      installLatestAwsSdk: false,
      logGroup: new logs.LogGroup(this, 'Logs', {
        retention: props.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      onCreate: {
        service: 'imagebuilder',
        action: 'GetImagePipeline',
        parameters: { imagePipelineArn },
        physicalResourceId,
        outputPaths: ['imagePipeline.arn'],
      },
      onUpdate: {
        service: 'imagebuilder',
        action: 'StartImagePipelineExecution',
        parameters: {
          imagePipelineArn,
          // At most 36 characters (StartImagePipelineExecution's clientToken).
          clientToken: (props.architecture === 'amd64'
            ? props.playbook.assetHash
            : `${props.architecture}-${props.playbook.assetHash}`
          ).slice(0, 36),
        },
        physicalResourceId,
        outputPaths: ['imageBuildVersionArn'],
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['imagebuilder:GetImagePipeline', 'imagebuilder:StartImagePipelineExecution'],
          resources: [imagePipelineArn],
        }),
      ]),
    });
    // The provider function is a singleton of the stack, created by the first AwsCustomResource.
    const provider = Stack.of(this).node.tryFindChild(PROVIDER_ID);
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'The CDK-provided function behind AwsCustomResource uses the basic execution policy for its own logs; its calls are scoped by the policy given to each resource.',
      });
      acknowledgeGuardRule(
        provider,
        'lambda_inside_vpc_check',
        'The CDK-provided function behind AwsCustomResource makes one Image Builder API call at deploy time; it reaches nothing in a VPC.',
      );
    }
  }
}
