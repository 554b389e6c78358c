import * as fs from 'node:fs';
import * as path from 'node:path';
import aslValidator from 'asl-validator';
import { type Definition, render } from '../../infra/statemachines/asl';
import { DEFINITIONS } from '../../infra/statemachines/index';
import { allStates, placeholdersOf, STATEMACHINES_DIR } from '../support/asl-harness';
import { synth } from '../support/stack';

const files = fs.existsSync(STATEMACHINES_DIR)
  ? fs.readdirSync(STATEMACHINES_DIR).filter((file) => file.endsWith('.asl.json'))
  : [];

/** Placeholders replaced by a dummy value of the right kind, for schema validation only. */
function withDummies(text: string): string {
  return text.replace(/\$\{([A-Za-z0-9_]+)\}/g, (_, key: string) =>
    key === 'Partition'
      ? 'aws'
      : key.endsWith('Arn')
        ? `arn:aws:lambda:eu-west-1:123456789012:function:${key}`
        : `placeholder-${key}`,
  );
}

interface TemplateStateMachine {
  Properties: { DefinitionString: unknown; DefinitionSubstitutions?: Record<string, unknown> };
}

describe('state machine definitions', () => {
  const { template } = synth();
  const deployed = Object.values(
    template.findResources('AWS::StepFunctions::StateMachine'),
  ) as TemplateStateMachine[];

  test.each(files)('%s is valid ASL in JSONPath', (file) => {
    const text = fs.readFileSync(path.join(STATEMACHINES_DIR, file), 'utf8');
    const definition = JSON.parse(withDummies(text));
    const { isValid, errors } = aslValidator(definition);
    expect(errors).toEqual([]);
    expect(isValid).toBe(true);
    expect(definition.QueryLanguage ?? 'JSONPath').toBe('JSONPath');
  });

  test.each(files)('every Task of %s has Retry and Catch', (file) => {
    const definition = JSON.parse(withDummies(fs.readFileSync(path.join(STATEMACHINES_DIR, file), 'utf8')));
    const tasks = allStates(definition).filter(([, state]) => state.Type === 'Task');
    expect(tasks.length).toBeGreaterThan(0);
    for (const [name, state] of tasks) {
      expect({ name, retry: Array.isArray(state.Retry) && state.Retry.length > 0 }).toEqual({
        name,
        retry: true,
      });
      expect({ name, catch: Array.isArray(state.Catch) && state.Catch.length > 0 }).toEqual({
        name,
        catch: true,
      });
    }
  });

  test.each(files)('%s is what its definition renders (npm run statemachines writes it)', (file) => {
    const name = file.replace(/\.asl\.json$/, '');
    const build = DEFINITIONS[name];
    expect(build).toBeDefined();
    expect(fs.readFileSync(path.join(STATEMACHINES_DIR, file), 'utf8')).toBe(render((build as () => Definition)()));
  });

  test('every definition has its reviewable file', () => {
    expect(Object.keys(DEFINITIONS).map((name) => `${name}.asl.json`).sort()).toEqual([...files].sort());
  });

  test.each(files)('%s: every aws-sdk Task runs in the partition of the stack', (file) => {
    const text = fs.readFileSync(path.join(STATEMACHINES_DIR, file), 'utf8');
    expect(text).not.toContain('arn:aws:');
    const resources = allStates(JSON.parse(text))
      .filter(([, state]) => state.Type === 'Task')
      .map(([, state]) => String(state.Resource));
    for (const resource of resources) expect(resource).toMatch(/^arn:\$\{Partition\}:states:::/);
  });

  test.each(files)('%s is deployed with exactly its placeholders substituted', (file) => {
    const text = fs.readFileSync(path.join(STATEMACHINES_DIR, file), 'utf8');
    const match = deployed.find((resource) =>
      JSON.stringify(resource.Properties.DefinitionString).includes(JSON.stringify(text).slice(1, 200)),
    );
    expect(match).toBeDefined();
    expect(Object.keys(match?.Properties.DefinitionSubstitutions ?? {}).sort()).toEqual(placeholdersOf(text));
  });
});
