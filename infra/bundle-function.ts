import { bundleFunction } from './bundling';

/** `bundle-function.ts <name> <outfile>`: the bundle of one function, as the stack deploys it. */
const [name, outfile] = process.argv.slice(2);
if (!name || !outfile) {
  process.stderr.write('usage: bundle-function.ts <function name> <output file>\n');
  process.exit(2);
}
bundleFunction(name, outfile).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
