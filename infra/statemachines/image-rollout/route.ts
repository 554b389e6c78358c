import type { States } from '../asl';
import { ended, present } from '../choices';
import { tell } from './tell';

/**
 * The image is one of this stack's pipeline: the rule matches only those, but an execution
 * started by hand or by a misrouted event must not roll out, or report on, anyone else's image.
 */
const OF_THIS_PIPELINE = [
  { Variable: '$.resources[0]', IsPresent: true },
  { Variable: '$.resources[0]', IsString: true },
  { Variable: '$.resources[0]', StringMatches: '${ImageArnPrefix}*' },
];

/** An Image Builder state change of this stack's image, in `status`. */
const imageEvent = (status: string) => [
  ...present('$.detail.state.status', { StringEquals: status }),
  ...OF_THIS_PIPELINE,
];

/**
 * What started the execution: a deploy (config mode, to `config`), a new image of this stack's
 * pipeline (image mode, to `image`), a failed build (notified); anything else is skipped.
 */
export function route(next: { config: string; image: string }): States {
  return {
    Route: {
      Type: 'Choice',
      Choices: [
        { And: present('$.source', { StringEquals: 'deploy' }), Next: 'StartConfig' },
        { And: imageEvent('AVAILABLE'), Next: 'StartImage' },
        { And: imageEvent('FAILED'), Next: 'NotifyImageFailed' },
      ],
      Default: 'NotForThisStateMachine',
    },
    NotForThisStateMachine: ended(
      'skipped',
      "Only AVAILABLE and FAILED events of this stack's images, and deploy events, start a rollout.",
    ),
    NotifyImageFailed: tell(
      'image build failed',
      "States.Format('The image build {} failed: {}. The fleet stays on its current AMI.', $.resources[0], States.JsonToString($.detail.state))",
      'ImageBuildFailed',
    ),
    ImageBuildFailed: {
      Type: 'Fail',
      Error: 'ImageBuildFailed',
      Cause: 'The image build failed; the notification carries the reason.',
    },
    StartConfig: {
      Type: 'Pass',
      Parameters: { mode: 'config', 'rollout.$': '$$.Execution.Name' },
      Next: next.config,
    },
    StartImage: {
      Type: 'Pass',
      Parameters: {
        mode: 'image',
        'imageArn.$': '$.resources[0]',
        'rollout.$': '$$.Execution.Name',
        pinned: '${PinnedAmiId}',
      },
      Next: next.image,
    },
  };
}
