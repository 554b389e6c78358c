import { synth } from '../stack';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export interface CfnResource {
  Type: string;
  Properties?: Record<string, Json>;
}
export interface CfnTemplate {
  Resources: Record<string, CfnResource>;
  Parameters?: Record<string, { Default?: Json }>;
}

/**
 * The stack's template for `context`: synthesized once per change of the sources, then read from the
 * synthesis cache by every test file that checks calls against it (test/support/synth-cache.ts).
 */
export function synthesizedTemplate(context: Record<string, unknown> = {}): CfnTemplate {
  return synth(context).template.toJSON() as CfnTemplate;
}
