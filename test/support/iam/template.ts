import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
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

const ROOT = path.join(__dirname, '..', '..', '..');
// What shapes the synthesized policies: the CDK app, the state machines, the function entries, the flags.
const SOURCES = ['infra', 'statemachines', 'functions', 'cdk.json', 'package-lock.json'];

function sourceHash(context: Record<string, unknown>): string {
  const hash = createHash('sha256').update(JSON.stringify(context));
  const visit = (file: string) => {
    const stat = fs.statSync(file);
    if (stat.isDirectory()) {
      for (const entry of fs.readdirSync(file).sort()) visit(path.join(file, entry));
    } else {
      hash.update(file).update(fs.readFileSync(file));
    }
  };
  for (const source of SOURCES) visit(path.join(ROOT, source));
  return hash.digest('hex').slice(0, 16);
}

/**
 * The stack's template for `context`, synthesized once per change of the sources and kept in the
 * temporary directory: every test file that checks calls against it would otherwise synthesize it.
 */
export function synthesizedTemplate(context: Record<string, unknown> = {}): CfnTemplate {
  const dir = path.join(os.tmpdir(), 'external-worker-iam');
  const file = path.join(dir, `${sourceHash(context)}.template.json`);
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as CfnTemplate;
  const template = synth(context).template.toJSON() as CfnTemplate;
  fs.mkdirSync(dir, { recursive: true });
  const partial = `${file}.${process.pid}`;
  fs.writeFileSync(partial, JSON.stringify(template));
  fs.renameSync(partial, file);
  return template;
}
