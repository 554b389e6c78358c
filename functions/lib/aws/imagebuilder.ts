import { ImagebuilderClient } from '@aws-sdk/client-imagebuilder';

/** Created once per container and reused by every invocation. */
export const imagebuilder = new ImagebuilderClient({});
