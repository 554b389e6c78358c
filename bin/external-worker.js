#!/usr/bin/env node

// In this repository the CLI is the project's TypeScript run as it is, compiled on load by tsx: no
// build step. The package has no sources: it ships the CLI built (lib/cli.js, by npm pack).
const fs = require('node:fs');
const path = require('node:path');

const sources = path.join(__dirname, '..', 'cli', 'entry.ts');
if (fs.existsSync(sources)) {
  require('tsx/cjs/api').register();
  require(sources);
} else {
  require('../lib/cli.js');
}
