/** The SNS platform applications this deployment has, one per push platform, as its functions are told. */
import * as z from '../protocol/zod';
import type { PushPlatformApplications } from '../function-environment';
import { pushPlatforms, type PushPlatform } from '../resources';
import { pushPlatformApplicationsJson, type Deps } from '../runtime/deps';

const platformIds = Object.keys(pushPlatforms) as [PushPlatform, ...PushPlatform[]];
const Applications = z.partialRecord(z.enum(platformIds), z.string().check(z.startsWith('arn:')));

/** Platform → SNS platform application ARN; empty when push is off. */
export function platformApplications(deps: Deps): PushPlatformApplications {
  return Applications.parse(JSON.parse(pushPlatformApplicationsJson(deps)));
}

/** Whether the deployment can push at all. */
export const pushEnabled = (deps: Deps): boolean => Object.keys(platformApplications(deps)).length > 0;
