import { spawnSync } from 'node:child_process';
import { shellQuote } from '../../infra/user-data';

// The settings file is sourced by bash: each value is one single-quoted word, whatever it holds.

describe('worker settings quoting', () => {
  test.each([
    "it's",
    "'$(touch /tmp/ew-pwned)'",
    '`id`',
    '"$HOME"',
    '{{ lookup("pipe", "id") }}',
    "\\'; id; echo '",
    'ünï cödé',
  ])('%j reads back as it is and runs nothing', (value) => {
    const result = spawnSync('bash', ['-c', `set -eu; X=${shellQuote('EW_X', value)}; printf '%s' "$X"`], {
      encoding: 'utf8',
    });
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(value);
  });

  test.each(['a\nSETTINGS\nid', 'a\u0000b', 'a\rb'])('refuses %j, naming the setting', (value) => {
    expect(() => shellQuote('EW_TSA_PUBLIC_KEY', value)).toThrow(/^EW_TSA_PUBLIC_KEY: a control character/);
  });
});
