import type { Context } from 'aws-lambda';
import { loggedHandler } from '../lib/handler';
import { parseInput } from '../lib/parse';
import { DEADLINE_INPUT_FORM, deadline, deadlineInput } from './deadline';

/** Step Functions task of instance-launch and instance-drain: `{from, seconds}` → `{at}`. */
export const handler = loggedHandler(async (rawEvent: unknown, _context: Context) =>
  deadline(parseInput(deadlineInput, rawEvent, 'deadline input', DEADLINE_INPUT_FORM)),
);
