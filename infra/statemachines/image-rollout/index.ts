import type { Definition } from '../asl';
import { configDrift } from './drift';
import { rolloutEnds } from './ends';
import { currentGroup } from './group';
import { imageAmi } from './image';
import { instanceRefresh } from './refresh';
import { route } from './route';
import { targetVersion } from './version';

/**
 * An image rollout finds the new AMI, makes a launch template version of it and refreshes the
 * group to it; a config rollout (after a deploy) refreshes the group to its own version when
 * running instances use another one. Both share the refresh and its ends.
 */
export function imageRollout(): Definition {
  return {
    Comment:
      "Moves the worker fleet to a new AMI (Image Builder image AVAILABLE) or to the group's launch template version after a deploy, through an instance refresh with automatic rollback.",
    StartAt: 'Route',
    States: {
      ...route({ config: 'DescribeGroup', image: 'Pinned?' }),
      ...imageAmi('DescribeGroup'),
      ...currentGroup({ config: 'CompareInstances', image: 'DescribeCurrentVersion' }),
      ...targetVersion({ refresh: 'CheckRefreshes', empty: 'SetDefaultVersion' }),
      ...configDrift('CheckRefreshes'),
      ...instanceRefresh({
        again: 'DescribeGroup',
        succeeded: 'SucceededByMode',
        failed: 'ReadFailedAlarms',
      }),
      ...rolloutEnds(),
    },
  };
}
