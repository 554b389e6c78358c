import * as z from 'zod/mini';

/**
 * An EventBridge event: exactly the envelope's fields, none other; `detail` as the caller gives it.
 * https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html
 */
export function eventBridgeEvent<
  D extends z.ZodMiniType,
  T extends z.ZodMiniType,
  S extends z.ZodMiniType,
>(shape: { detailType: T; source: S; detail: D }) {
  return z.strictObject({
    version: z.optional(z.string()),
    id: z.optional(z.string()),
    'detail-type': shape.detailType,
    source: shape.source,
    account: z.optional(z.string()),
    time: z.string(),
    region: z.optional(z.string()),
    resources: z.optional(z.array(z.string())),
    detail: shape.detail,
  });
}
