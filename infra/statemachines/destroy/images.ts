import { type State, sdkTask } from '../asl';
import { causeMatchesAny, failWithCaughtError, ifDryRun, itemResult } from '../choices';
import { catchAll, catchFirst, retry } from '../retry';

/**
 * Deletes one snapshot (`$.snapshotId`), unless a dry run; one already gone counts as deleted.
 * `of` names its states apart (`Own…` inside the AMI's iteration): names are unique per machine.
 */
function deleteSnapshot(of: '' | 'Own' = '') {
  const name = (state: string) => state.replace('Snapshot', `${of}Snapshot`);
  return {
    ProcessorConfig: { Mode: 'INLINE' },
    StartAt: name('SnapshotDryRun?'),
    States: {
      [name('SnapshotDryRun?')]: ifDryRun(name('SnapshotWouldBeDeleted'), name('DeleteSnapshot')),
      [name('DeleteSnapshot')]: sdkTask('ec2', 'deleteSnapshot', {
        Parameters: { 'SnapshotId.$': '$.snapshotId' },
        ResultPath: null,
        Retry: retry('ec2'),
        Catch: catchAll(name('SnapshotAlreadyGone?')),
        Next: name('SnapshotDeleted'),
        scope: of ? 'deleteSnapshotsOfThisStacksAmis' : 'deleteTaggedSnapshots',
      }),
      [name('SnapshotAlreadyGone?')]: {
        Type: 'Choice',
        Choices: [
          {
            ...causeMatchesAny(['*InvalidSnapshot.NotFound*', 'The snapshot * does not exist*']),
            Next: name('SnapshotDeleted'),
          },
        ],
        Default: name('SnapshotNotDeleted'),
      },
      [name('SnapshotDeleted')]: itemResult('snapshotId', 'deleted'),
      [name('SnapshotWouldBeDeleted')]: itemResult('snapshotId', 'would be deleted'),
      [name('SnapshotNotDeleted')]: failWithCaughtError(),
    },
  };
}

/** What is reported of one AMI, done or to be done. */
const imageReport = (result: string, withSnapshots: boolean): State => ({
  Type: 'Pass',
  Parameters: {
    'imageId.$': '$.imageId',
    'name.$': '$.name',
    'snapshotIds.$': '$.snapshotIds',
    ...(withSnapshots ? { 'snapshots.$': '$.snapshots' } : {}),
    'imageBuilderImage.$': '$.imageBuilderImage',
    result,
  },
  End: true,
});

/** The AMIs found under `$.imagesFound`, with their snapshots; then the snapshots found tagged. */
export function deleteImagesAndSnapshots(next: string): Record<string, State> {
  return {
    DeleteImages: {
      Type: 'Map',
      Comment:
        'Per AMI: its Image Builder image first (deleting it leaves the AMI), then its snapshots are tagged with the stack so that a later run finds them if this one fails half way, then the AMI is deregistered and its snapshots deleted.',
      ItemsPath: '$.imagesFound.images',
      ItemSelector: {
        'imageId.$': '$$.Map.Item.Value.ImageId',
        'name.$': '$$.Map.Item.Value.Name',
        'mappings.$': '$$.Map.Item.Value.BlockDeviceMappings',
        'dryRun.$': '$.dryRun',
        snapshotIds: [],
        imageBuilderImage: 'none',
      },
      MaxConcurrency: 4,
      ItemProcessor: {
        ProcessorConfig: { Mode: 'INLINE' },
        StartAt: 'ImageHasSnapshots?',
        States: {
          'ImageHasSnapshots?': {
            Type: 'Choice',
            Choices: [
              { Variable: '$.mappings[0].Ebs.SnapshotId', IsPresent: true, Next: 'ListImageSnapshots' },
            ],
            Default: 'FindImageBuilderImage',
          },
          ListImageSnapshots: {
            Type: 'Pass',
            InputPath: '$.mappings[*].Ebs.SnapshotId',
            ResultPath: '$.snapshotIds',
            Next: 'FindImageBuilderImage',
          },
          FindImageBuilderImage: sdkTask('ec2', 'describeTags', {
            Comment: 'Image Builder tags the AMIs it creates with the ARN of its image.',
            Parameters: {
              Filters: [
                { Name: 'resource-id', 'Values.$': 'States.Array($.imageId)' },
                { Name: 'key', Values: ['Ec2ImageBuilderArn'] },
              ],
            },
            ResultSelector: { 'tags.$': '$.Tags' },
            ResultPath: '$.imageBuilderTag',
            Retry: retry('ec2'),
            Catch: catchAll('ImageNotDeleted'),
            Next: 'BuiltByImageBuilder?',
            scope: 'anyResource',
          }),
          'BuiltByImageBuilder?': {
            Type: 'Choice',
            Choices: [
              {
                Variable: '$.imageBuilderTag.tags[0].Value',
                IsPresent: true,
                Next: 'RecordImageBuilderImage',
              },
            ],
            Default: 'ImageDryRun?',
          },
          RecordImageBuilderImage: {
            Type: 'Pass',
            InputPath: '$.imageBuilderTag.tags[0].Value',
            ResultPath: '$.imageBuilderImage',
            Next: 'ImageDryRun?',
          },
          'ImageDryRun?': {
            Type: 'Choice',
            Choices: [
              { Variable: '$.dryRun', BooleanEquals: true, Next: 'ImageWouldBeDeleted' },
              { Variable: '$.imageBuilderImage', StringEquals: 'none', Next: 'ImageSnapshotsToTag?' },
            ],
            Default: 'DeleteImageBuilderImage',
          },
          DeleteImageBuilderImage: sdkTask('imagebuilder', 'deleteImage', {
            Parameters: { 'ImageBuildVersionArn.$': '$.imageBuilderImage' },
            ResultPath: null,
            Retry: retry('imagebuilder'),
            Catch: catchFirst(
              ['Imagebuilder.ResourceNotFoundException'],
              'ImageSnapshotsToTag?',
              'ImageNotDeleted',
              null,
            ),
            Next: 'ImageSnapshotsToTag?',
            scope: 'deleteImageBuilderImages',
          }),
          'ImageSnapshotsToTag?': {
            Type: 'Choice',
            Choices: [{ Variable: '$.snapshotIds[0]', IsPresent: true, Next: 'TagImageSnapshots' }],
            Default: 'DeregisterImage',
          },
          TagImageSnapshots: sdkTask('ec2', 'createTags', {
            Parameters: {
              'Resources.$': '$.snapshotIds',
              Tags: [{ Key: 'external-worker:stack', Value: '${StackName}' }],
            },
            ResultPath: null,
            Retry: retry('ec2'),
            Catch: catchAll('ImageNotDeleted'),
            Next: 'DeregisterImage',
            scope: 'tagImageSnapshotsWithStack',
          }),
          DeregisterImage: sdkTask('ec2', 'deregisterImage', {
            Parameters: { 'ImageId.$': '$.imageId' },
            ResultPath: null,
            Retry: retry('ec2'),
            Catch: catchAll('ImageAlreadyGone?'),
            Next: 'DeleteImageSnapshots',
            scope: 'deregisterTaggedImages',
          }),
          'ImageAlreadyGone?': {
            Type: 'Choice',
            Choices: [
              {
                ...causeMatchesAny([
                  '*InvalidAMIID.NotFound*',
                  '*InvalidAMIID.Unavailable*',
                  'The image id * does not exist*',
                  'The image ID * is no longer available*',
                ]),
                Next: 'DeleteImageSnapshots',
              },
            ],
            Default: 'ImageNotDeleted',
          },
          DeleteImageSnapshots: {
            Type: 'Map',
            Comment: 'Exactly the snapshots the AMI was made of, as its own block device mappings list them.',
            ItemsPath: '$.snapshotIds',
            ItemSelector: { 'snapshotId.$': '$$.Map.Item.Value', dryRun: false },
            MaxConcurrency: 4,
            ItemProcessor: deleteSnapshot('Own'),
            ResultPath: '$.snapshots',
            Catch: catchAll('ImageNotDeleted'),
            Next: 'ImageDeleted',
          },
          ImageDeleted: imageReport('deregistered', true),
          ImageWouldBeDeleted: imageReport('would be deregistered', false),
          ImageNotDeleted: failWithCaughtError(),
        },
      },
      ResultPath: '$.images',
      Catch: catchAll('NotifyFailure'),
      Next: 'DeleteSnapshots',
    },
    DeleteSnapshots: {
      Type: 'Map',
      ItemsPath: '$.snapshotsFound.snapshots',
      ItemSelector: { 'snapshotId.$': '$$.Map.Item.Value.SnapshotId', 'dryRun.$': '$.dryRun' },
      MaxConcurrency: 4,
      ItemProcessor: deleteSnapshot(),
      ResultPath: '$.snapshots',
      Catch: catchAll('NotifyFailure'),
      Next: next,
    },
  };
}
