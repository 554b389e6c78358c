import * as fs from 'node:fs';
import * as path from 'node:path';
import { render } from './asl';
import { DEFINITIONS } from './index';

/**
 * Writes `statemachines/<name>.asl.json` from the definitions: the reviewable form of what the
 * stack deploys (`npm run statemachines`; a test fails when a file is stale).
 */
const dir = path.join(__dirname, '..', '..', 'statemachines');
for (const [name, definition] of Object.entries(DEFINITIONS)) {
  fs.writeFileSync(path.join(dir, `${name}.asl.json`), render(definition()));
}
