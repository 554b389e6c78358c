import { CfnParameter } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { WorkerConfig } from './config';

/**
 * Values a deploy needs that the configuration may leave open. What the configuration gives is
 * written into the template; what it does not becomes a CloudFormation parameter, so the default
 * synth yields one template that can be deployed in any account (as the original one-click template).
 */
export interface DeployInputs {
  vpcId: string;
  subnetIds: string[];
  teamId: string;
  customer: string;
}

export function deployInputs(scope: Construct, config: WorkerConfig): DeployInputs {
  const vpcId =
    config.vpcId ??
    new CfnParameter(scope, 'VpcId', {
      type: 'AWS::EC2::VPC::Id',
      description: 'VPC of the workers',
    }).valueAsString;
  const subnetIds =
    config.subnetIds ??
    new CfnParameter(scope, 'SubnetIds', {
      type: 'List<AWS::EC2::Subnet::Id>',
      description: 'Subnets of the workers (they need outbound access to the scheduler and AWS APIs)',
    }).valueAsList;
  const teamId =
    config.teamId ??
    new CfnParameter(scope, 'TeamId', {
      type: 'String',
      description: 'Concourse team the workers register to (your Cycloid organization canonical)',
      allowedPattern: '^[A-Za-z0-9_.-]{1,128}$',
      constraintDescription: 'letters, digits, _ . - (1-128)',
    }).valueAsString;
  const customer =
    config.customer ??
    new CfnParameter(scope, 'Customer', {
      type: 'String',
      description: 'Cycloid organization, used in tags',
      allowedPattern: '^[a-z][a-z0-9-]{0,30}$',
      constraintDescription: 'lower-case letters, digits and dashes, starting with a letter',
    }).valueAsString;
  return { vpcId, subnetIds, teamId, customer };
}
