/**
 * Drops the SDK's modeled error classes from the bundles, keeping every error's name.
 *
 * Each client's schema module registers every modeled error of the service
 * (`n0_registry.registerError(ParameterNotFound$, ParameterNotFound)`), which keeps every error
 * class in any bundle that sends one command: 40 KB of classes for SSM, compiled and evaluated at
 * each cold start. When the code on the wire has no registration, the SDK throws the service's
 * base exception with that code as its `name` (`getErrorSchemaOrThrowBaseException` in
 * @aws-sdk/core's ProtocolLib), which is the name the class has whenever the two agree: such a
 * registration goes. Where an `awsQueryError` trait gives the error another code on the wire (SNS
 * answers `NotFound` for `NotFoundException`), the registration stays, with a class of the same name
 * derived from the base exception in place of the generated one. The base exception's registration
 * stays as it is. So every error has the name, fault, message and members the full SDK gives it.
 *
 * What changes is only `instanceof` an error's own class: the functions match AWS errors by name
 * (functions/lib/errors.ts).
 */

const STRING_CONSTANT = /^const (\w+) = ("[^"\\\n]*");$/gm;

/** The module's top-level string constants (`const _xN = "xmlName";`), each with its quoted value. */
export function stringConstants(source: string): Map<string, string> {
  const constants = new Map<string, string>();
  for (const [, name, value] of source.matchAll(STRING_CONSTANT))
    constants.set(name as string, value as string);
  return constants;
}

const REGISTRATION = /^(\w+)\.registerError\((\w+)\$, (\w+)\);\n?/gm;

/** The schema's declaration, `export var X$ = [-3, namespace, name, traits, ...];`, up to its end. */
function declaration(source: string, schema: string): string | undefined {
  const start = source.indexOf(`export var ${schema}$ = [-3,`);
  if (start < 0) return undefined;
  const end = source.indexOf('\n];', start);
  return source.slice(start, end < 0 ? undefined : end);
}

function constantValue(constants: Map<string, string>, token: string): string | undefined {
  const quoted = token.match(/^["`]([^"`]*)["`]$/);
  if (quoted) return quoted[1];
  const value = constants.get(token);
  return value === undefined ? undefined : (JSON.parse(value) as string);
}

type Registration =
  /** Left as generated: the base exception, or a declaration this parser does not follow. */
  | { keep: true }
  /** The wire code is the name: the base exception carries it. */
  | { drop: true }
  /** Another code on the wire: registered with a class of this name. */
  | { rename: string };

/**
 * How one error is registered; `queryErrorKey` is the module's constant naming the `awsQueryError`
 * trait, if it has one.
 */
function registration(
  constants: Map<string, string>,
  queryErrorKey: string | undefined,
  text: string | undefined,
): Registration {
  const head = text?.match(/^export var \w+\$ = \[-3, (\w+), ([\w"`]+),/);
  if (!text || !head) return { keep: true };
  const namespace = constantValue(constants, head[1] as string);
  if (namespace === undefined || namespace.startsWith('smithy.ts.sdk.synthetic.')) return { keep: true };
  const shapeName = constantValue(constants, head[2] as string);
  if (shapeName === undefined || !/^\w+$/.test(shapeName)) return { keep: true };
  const queryCode = queryErrorKey
    ? text.match(new RegExp(`\\[${queryErrorKey}\\]: \\[[\`"]([^\`"]*)[\`"]`))?.[1]
    : undefined;
  if (queryCode === undefined) return /awsQueryError/.test(text) ? { keep: true } : { drop: true };
  return queryCode === shapeName ? { drop: true } : { rename: shapeName };
}

/** The class a renamed error is registered with: the generated class, less its own prototype. */
const NAMED_ERROR = '__namedServiceError';
const namedErrorFactory = (baseException: string) => `
function ${NAMED_ERROR}(name) {
  return class extends ${baseException} {
    constructor(options) {
      super({ name, ...options });
      Object.setPrototypeOf(this, new.target.prototype);
      this.name = name;
    }
  };
}
`;

/** The module without the error classes, each error registered as its name needs. */
export function pruneErrorRegistrations(source: string): {
  source: string;
  dropped: number;
  renamed: number;
  kept: number;
} {
  const constants = stringConstants(source);
  const queryErrorKey = [...constants].find(([, value]) => value === '"awsQueryError"')?.[0];
  const counts = { dropped: 0, renamed: 0, kept: 0 };
  let baseException: string | undefined;
  const result = source.replace(
    REGISTRATION,
    (whole, registry: string, schema: string, errorClass: string) => {
      const found = registration(constants, queryErrorKey, declaration(source, schema));
      if ('keep' in found) {
        if (/ServiceException$/.test(errorClass)) baseException ??= errorClass;
        counts.kept += 1;
        return whole;
      }
      if ('drop' in found) {
        counts.dropped += 1;
        return '';
      }
      counts.renamed += 1;
      return `${registry}.registerError(${schema}$, ${NAMED_ERROR}(${JSON.stringify(found.rename)}));\n`;
    },
  );
  if (counts.renamed === 0) return { source: result, ...counts };
  // Without the base exception, the renamed errors would have no class: the module stays as it was.
  if (baseException === undefined)
    return { source, dropped: 0, renamed: 0, kept: counts.kept + counts.dropped + counts.renamed };
  return { source: result + namedErrorFactory(baseException), ...counts };
}
