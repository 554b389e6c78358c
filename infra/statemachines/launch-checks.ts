/**
 * What the launch gate runs on an instance and how often: the boot status check and the paces of
 * its looks (instance-launch.ts).
 */

// Reads the boot status file and looks for the keeprunning file; one JSON line, always. `written`
// is when the file was last written: a status from before this launch action (a reused instance
// back from the warm pool still holds its last one) is not an answer.
export const BOOT_STATUS_SCRIPT = [
  "python3 - <<'PY'",
  'import json, os, time',
  "path = '/var/lib/external-worker/boot-status.json'",
  'try:',
  "    written = time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(os.stat(path).st_mtime))",
  'except OSError:',
  "    written = '1970-01-01T00:00:00Z'",
  'try:',
  '    with open(path) as f:',
  '        boot = json.load(f)',
  '    if not isinstance(boot, dict):',
  "        raise ValueError('not an object')",
  'except FileNotFoundError:',
  "    boot = {'status': 'absent', 'message': 'boot status file absent: boot not started yet'}",
  'except (OSError, ValueError) as error:',
  "    boot = {'status': 'unreadable', 'message': 'boot status file unreadable: %s' % error}",
  'print(json.dumps({',
  "    'status': str(boot.get('status', 'unknown')),",
  "    'step': str(boot.get('step', ''))[:200],",
  "    'message': str(boot.get('message', ''))[:1000],",
  "    'keeprunning': os.path.exists('/var/tmp/keeprunning'),",
  "    'written': written,",
  "}), end='')",
  'PY',
];

/**
 * When the gate first looks, how often after, and how long it waits for each answer.
 * bench/replacement-model.ts reads these.
 *
 * A first boot runs the boot play (minutes): a look every 25 s + the answer's 5 s is close enough.
 * A warm start is due within a minute of the hook, so its looks are dense (SendCommand and
 * GetCommandInvocation are free; the transitions of a minute's polls cost a tenth of a cent) and
 * placed where they can find it ready: the instance must first start or resume and boot, then hold
 * its registration 10 s (external-worker-boot), so a look before 30 s only costs transitions. Its
 * answer is read after 2 s: the check is a python3 one-liner, done about a second after
 * SendCommand on an online agent; a command not done yet is read again (READS_OF_A_COMMAND), not
 * sent anew.
 */
export const COLD_PACE = { firstSeconds: 60, pollSeconds: 25, answerSeconds: 5 };
export const WARM_PACE = { firstSeconds: 30, pollSeconds: 5, answerSeconds: 2 };
/**
 * Reads of one command's invocation while it is still Pending, InProgress or Delayed: then a new
 * look. Bounded because a command to an agent that is not connected yet (a warm instance still
 * starting) stays Pending until it connects or the delivery timeout (TimeoutSeconds) passes
 * (https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html).
 */
export const READS_OF_A_COMMAND = 3;
