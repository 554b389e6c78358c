import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate';
import type { Principal } from './principals';
import { type AwsCall, type IamRequest, iamRequests, UnformableRequest } from './requests';
import type { Environment } from './resolve';

export interface Verdict {
  call: AwsCall;
  request?: IamRequest;
  /** Allowed, ExplicitlyDenied, ImplicitlyDenied, or why no request could be evaluated. */
  result: string;
}

/** What a call also needs, that AWS authorizes against the caller inside the call. */
export type ImpliedRequests = (call: AwsCall, env: Environment) => IamRequest[];

/** Evaluates one request against the principal's identity policies (same account, no SCP). */
export async function evaluateRequest(
  principal: Principal,
  request: IamRequest,
  env: Environment,
): Promise<string> {
  if (principal.unknownManagedPolicies.length) {
    return `no copy of the managed policies ${principal.unknownManagedPolicies.join(', ')}`;
  }
  const simulation = {
    identityPolicies: principal.policies.map(({ name, document }) => ({ name, policy: document })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    ...(request.resourcePolicy ? { resourcePolicy: request.resourcePolicy } : {}),
    request: {
      action: request.action,
      principal: principal.arn,
      resource: { accountId: env.account, resource: request.resource },
      contextVariables: request.context,
    },
  };
  // The simulator types a resource by its ARN format, whose account it needs non-empty; a document
  // AWS shares has none (arn:<partition>:ssm:<region>::document/AWS-RunShellScript):
  // https://docs.aws.amazon.com/systems-manager/latest/userguide/security_iam_id-based-policy-examples.html
  // Its context keys were already chosen from its resource type (requests.ts): evaluate it as is.
  if (request.awsOwned) return runUnsafeSimulation(simulation as never, {});
  const response = await runSimulation(simulation as never, {});
  if (response.resultType === 'error') return `simulation error: ${JSON.stringify(response.errors)}`;
  return response.overallResult;
}

/** Every IAM request of a call (its own, and those AWS makes on the caller's behalf), evaluated. */
export async function evaluateCall(
  principal: Principal,
  call: AwsCall,
  env: Environment,
  implied: ImpliedRequests,
): Promise<Verdict[]> {
  let requests: IamRequest[];
  try {
    requests = [...(await iamRequests(call, env)), ...implied(call, env)];
  } catch (error) {
    if (error instanceof UnformableRequest) return [{ call, result: error.message }];
    throw error;
  }
  const verdicts: Verdict[] = [];
  for (const request of requests) {
    verdicts.push({ call, request, result: await evaluateRequest(principal, request, env) });
  }
  return verdicts;
}

export function describeDenials(verdicts: Verdict[]): string[] {
  return verdicts
    .filter((v) => v.result !== 'Allowed')
    .map(
      (v) =>
        `${v.call.principal} ${v.call.service}:${v.call.action} (${v.call.flow})${
          v.request
            ? ` → ${v.request.action} on ${v.request.resource} ${JSON.stringify(v.request.context)}`
            : ''
        }: ${v.result}`,
    );
}
