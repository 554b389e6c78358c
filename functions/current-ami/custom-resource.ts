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

/** The CloudFormation custom resource request, as far as this resource reads it. */
export const customResourceEvent = z.extend(customResourceEnvelope, {
  RequestType: z.enum(['Create', 'Update', 'Delete']),
  ResourceProperties: z.object({
    CurrentAmiParameter: z.string().check(z.startsWith('/')),
    StockAmiParameter: z.string().check(z.startsWith('/')),
  }),
});
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
