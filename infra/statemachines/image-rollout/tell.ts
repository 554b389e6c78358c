import { notify } from '../pieces';
import { catchAll } from '../retry';

/** A notification of the rollout; one that cannot be sent ends the execution as NotificationFailed. */
export const tell = (subject: string, message: string, next: string) =>
  notify({
    subject: { Subject: `\${StackName}: ${subject}` },
    message: { 'Message.$': message },
    catch: catchAll('NotificationFailed', '$.notifyError'),
    next,
  });
