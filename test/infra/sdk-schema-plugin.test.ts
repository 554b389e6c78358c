import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { build } from 'esbuild';
import { BUNDLE_OPTIONS } from '../../infra/bundling';
import { literalSchemaKeys } from '../../infra/sdk-schema-plugin';

const ROOT = path.join(__dirname, '..', '..');
const packageJson = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const clients = Object.keys(packageJson.dependencies).filter((name) => name.startsWith('@aws-sdk/client-'));

describe('SDK schema plugin', () => {
  test('writes computed keys naming string constants as the strings, and leaves others', () => {
    const source = [
      'const _xN = "xmlName";',
      'const n0 = "com.amazonaws.ec2";',
      'export var A$ = [3, n0, "A", 0, [_xN], [[0, { [_xN]: `x`, [_eQN]: 1 }], [0, { a: 1, [_xN]: 2 }]]];',
    ].join('\n');
    const result = literalSchemaKeys(source);
    expect(result).toMatchObject({ replaced: 2, left: 1 });
    expect(result.source).toContain('{ "xmlName": `x`, [_eQN]: 1 }');
    expect(result.source).toContain('{ a: 1, "xmlName": 2 }');
    // An array holding the constant is not a key.
    expect(result.source).toContain('[_xN], [[0');
  });

  test.each(clients)('leaves no computed key in the schemas of %s', (client) => {
    const dir = path.join(ROOT, 'node_modules', client, 'dist-es', 'schemas');
    const modules = fs.readdirSync(dir).filter((file) => /^schemas_\d+\.js$/.test(file));
    expect(modules.length).toBeGreaterThan(0);
    for (const file of modules) {
      const result = literalSchemaKeys(fs.readFileSync(path.join(dir, file), 'utf8'));
      expect(result.left).toBe(0);
      expect(result.replaced).toBeGreaterThan(0);
    }
  });

  test('a bundle keeps the schemas of the commands it sends and drops the others', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ew-plugin-'));
    try {
      const entry = path.join(dir, 'entry.ts');
      fs.writeFileSync(
        entry,
        `import { DeregisterImageCommand } from '${path.join(ROOT, 'node_modules/@aws-sdk/client-ec2')}';\nexport const command = DeregisterImageCommand;\n`,
      );
      const bundled = async (plugins: typeof BUNDLE_OPTIONS.plugins) => {
        const outfile = path.join(dir, `out-${plugins.length}.js`);
        await build({ ...BUNDLE_OPTIONS, minify: false, plugins, entryPoints: [entry], outfile });
        return fs.readFileSync(outfile, 'utf8');
      };
      const [withPlugin, without] = [await bundled(BUNDLE_OPTIONS.plugins), await bundled([])];
      for (const text of [withPlugin, without]) expect(text).toContain('"DeregisterImageRequest"');
      expect(without).toContain('"RunInstancesRequest"');
      expect(withPlugin).not.toContain('"RunInstancesRequest"');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
