import type { Definition } from './asl';
import { destroy } from './destroy';
import { imageRollout } from './image-rollout';
import { instanceDrain } from './instance-drain';
import { instanceLaunch } from './instance-launch';

/** Every state machine of the stack, by the name of its reviewable file `statemachines/<name>.asl.json`. */
export const DEFINITIONS: Record<string, () => Definition> = {
  destroy,
  'image-rollout': imageRollout,
  'instance-drain': instanceDrain,
  'instance-launch': instanceLaunch,
};
