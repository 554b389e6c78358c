import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const CLIENT_PREFIX: Record<string, string> = {
  'auto-scaling': 'autoscaling',
  eventbridge: 'events',
  sfn: 'states',
};
const TASK_PREFIX: Record<string, string> = { eventbridge: 'events', sfn: 'states' };

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Action → where it is used, e.g. `ec2:DescribeImages` → [`FindImages`]. */
export type Uses = Map<string, Set<string>>;

function use(uses: Uses, action: string, where: string) {
  if (!uses.has(action)) uses.set(action, new Set());
  uses.get(action)?.add(where);
}

/**
 * What a state machine calls: each aws-sdk Task's action, each Lambda Task's invoke, and what AWS
 * authorizes against the caller inside those calls (see test/support/iam/implied.ts).
 */
export function stateMachineUses(name: string): Uses {
  const uses: Uses = new Map();
  const text = fs.readFileSync(path.join(ROOT, 'statemachines', `${name}.asl.json`), 'utf8');
  const visit = (states: Record<string, Record<string, unknown>>) => {
    for (const [state, body] of Object.entries(states)) {
      const resource = String(body.Resource ?? '');
      const sdk = /^arn:(?:aws[a-z-]*|\$\{Partition\}):states:::aws-sdk:([a-z0-9]+):([a-zA-Z0-9]+)$/.exec(
        resource,
      );
      if (sdk) {
        const [, service = '', action = ''] = sdk;
        const prefix = TASK_PREFIX[service] ?? service;
        use(uses, `${prefix}:${pascal(action)}`, state);
        if (prefix === 'sns' && action === 'publish') {
          use(uses, 'kms:GenerateDataKey', `${state} (encrypted topic)`);
          use(uses, 'kms:Decrypt', `${state} (encrypted topic)`);
        }
        if (prefix === 'autoscaling' && /^(updateAutoScalingGroup|startInstanceRefresh)$/.test(action)) {
          const parameters = JSON.stringify(body.Parameters ?? {});
          if (/LaunchTemplate/.test(parameters)) {
            for (const implied of ['ec2:RunInstances', 'iam:PassRole', 'ec2:CreateTags']) {
              use(uses, implied, `${state} (launch template)`);
            }
          }
        }
        if (prefix === 'scheduler' && action === 'updateSchedule')
          use(uses, 'iam:PassRole', `${state} (schedule role)`);
      }
      if (/^arn:(?:aws[a-z-]*|\$\{Partition\}):states:::lambda:invoke$/.test(resource))
        use(uses, 'lambda:InvokeFunction', state);
      for (const branch of (body.Branches as Array<{ States: never }> | undefined) ?? [])
        visit(branch.States);
      const processor = (body.ItemProcessor ?? body.Iterator) as { States: never } | undefined;
      if (processor) visit(processor.States);
    }
  };
  visit((JSON.parse(text) as { States: never }).States);
  return uses;
}

/** The source files of a function: its folder and the functions/lib modules they import. */
function functionSources(name: string): string[] {
  const files = new Set<string>();
  const add = (file: string) => {
    if (files.has(file) || !fs.existsSync(file)) return;
    files.add(file);
    const text = fs.readFileSync(file, 'utf8');
    for (const [, relative] of text.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      add(path.resolve(path.dirname(file), `${relative}.ts`));
    }
  };
  const dir = path.join(ROOT, 'functions', name);
  for (const file of fs.readdirSync(dir)) if (file.endsWith('.ts')) add(path.join(dir, file));
  return [...files];
}

/** What a function calls: every SDK command it sends (or paginates), from its sources. */
export function functionUses(name: string): Uses {
  const uses: Uses = new Map();
  for (const file of functionSources(name)) {
    const text = fs.readFileSync(file, 'utf8');
    const where = path.relative(ROOT, file);
    for (const [, names = '', client = ''] of text.matchAll(
      /import \{([^}]+)\} from '@aws-sdk\/client-([a-z0-9-]+)'/g,
    )) {
      const prefix = CLIENT_PREFIX[client] ?? client;
      for (const imported of names.split(',').map((n) => n.replace(/^\s*type\s+/, '').trim())) {
        const command = /^(\w+)Command$/.exec(imported)?.[1];
        const paginated = /^paginate(\w+)$/.exec(imported)?.[1];
        const action = command ?? paginated;
        if (action && new RegExp(`\\b${imported}\\b\\(|new ${imported}\\(`).test(text)) {
          use(uses, `${prefix}:${action}`, where);
          // Publishing to the encrypted topic: SNS uses its key on the publisher's behalf.
          if (prefix === 'sns' && action === 'Publish') {
            use(uses, 'kms:GenerateDataKey', `${where} (encrypted topic)`);
            use(uses, 'kms:Decrypt', `${where} (encrypted topic)`);
          }
          // A group update naming a launch template: Auto Scaling checks the caller may launch from it.
          if (prefix === 'autoscaling' && /^(UpdateAutoScalingGroup|StartInstanceRefresh)$/.test(action)) {
            if (/LaunchTemplate/.test(text)) {
              for (const implied of ['ec2:RunInstances', 'iam:PassRole', 'ec2:CreateTags']) {
                use(uses, implied, `${where} (launch template)`);
              }
            }
          }
        }
      }
    }
  }
  return uses;
}

/** Does a granted action (wildcards allowed) cover the used one? */
export function covers(granted: string, used: string): boolean {
  const pattern = new RegExp(`^${granted.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`, 'i');
  return pattern.test(used);
}
