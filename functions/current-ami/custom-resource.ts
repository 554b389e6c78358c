import * as z from 'zod/mini';

/** What any custom resource request carries to be answered. */
export const customResourceEnvelope = z.object({
  ResponseURL: z.url(),
  StackId: z.string().check(z.minLength(1)),
  RequestId: z.string().check(z.minLength(1)),
  LogicalResourceId: z.string().check(z.minLength(1)),
  PhysicalResourceId: z.optional(z.string()),
});
type Envelope = z.infer<typeof customResourceEnvelope>;

/** Properties the stack gives this resource (infra/fleet.ts), and CloudFormation's ServiceToken. */
const properties = z.strictObject({
  ServiceToken: z.optional(z.string()),
  CurrentAmiParameter: z.string().check(z.startsWith('/')),
  StockAmiParameter: z.string().check(z.startsWith('/')),
  /** EC2's name of the instance types' architecture: the AMI must run on them. */
  Architecture: z.enum(['x86_64', 'arm64']),
  Fingerprint: z.optional(z.string()),
});

/**
 * The CloudFormation custom resource request: its documented fields and no others.
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/crpg-ref-requests.html
 */
export const customResourceEvent = z.strictObject({
  ...customResourceEnvelope.shape,
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ServiceToken: z.optional(z.string()),
  ResourceType: z.optional(z.string()),
  ResourceProperties: properties,
  OldResourceProperties: z.optional(z.unknown()),
});
export const CUSTOM_RESOURCE_FORM =
  'a CloudFormation custom resource request whose ResourceProperties are {CurrentAmiParameter, StockAmiParameter, Architecture (x86_64 or arm64), Fingerprint?}';
export type CustomResourceEvent = z.infer<typeof customResourceEvent>;

export interface CustomResourceResult {
  status: 'SUCCESS' | 'FAILED';
  reason?: string;
  physicalResourceId: string;
  data?: Record<string, string>;
}

/** Sends the result to CloudFormation's pre-signed URL; CloudFormation waits for nothing else. */
export async function respond(event: Envelope, result: CustomResourceResult): Promise<void> {
  const body = JSON.stringify({
    Status: result.status,
    Reason: result.reason ?? result.status,
    PhysicalResourceId: result.physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: result.data,
  });
  const response = await fetch(event.ResponseURL, {
    method: 'PUT',
    // The pre-signed URL is signed with an empty content type.
    headers: { 'content-type': '', 'content-length': String(Buffer.byteLength(body)) },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  if (!response.ok) throw new Error(`CloudFormation response rejected: HTTP ${response.status}`);
}
