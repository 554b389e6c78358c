#!/usr/bin/env node

// The CLI is the project's TypeScript run as it is, compiled on load by tsx: no build step.
require('tsx/cjs/api').register();
require('../cli/entry.ts');
