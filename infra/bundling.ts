import * as path from 'node:path';

/** Folder of the Lambda sources, and the entry of each function. */
export const FUNCTIONS_DIR = path.join(__dirname, '..', 'functions');
export const functionEntry = (name: string): string => path.join(FUNCTIONS_DIR, name, 'handler.ts');

/**
 * esbuild options of every Lambda bundle. The stack passes them to NodejsFunction and the
 * benchmark builds with exactly these, so the sizes it reports are the deployed ones.
 */
export const BUNDLE_OPTIONS = {
  target: 'node24',
  format: 'cjs',
  minify: true,
  treeShaking: true,
  sourcemap: false,
  // The nodejs24.x runtime ships the AWS SDK v3: bundling it again would triple every bundle
  // and its cold start.
  external: ['@aws-sdk/*', '@smithy/*'] as string[],
  mainFields: ['module', 'main'],
} as const;
