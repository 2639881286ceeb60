import { CreatePlatformApplicationCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { PushPlatformApplications } from '../../lambdas/function-environment';
import { pushPlatforms, type PushPlatform } from '../../lambdas/resources';

/**
 * Creates an SNS platform application for every push platform, as a deployment configured with all of
 * them has, so that devices can register push tokens and be woken locally. The local SNS endpoint needs
 * no Apple or Google credentials; SNS itself wants them as `PlatformCredential`/`PlatformPrincipal`.
 */
export async function ensurePlatformApplications(sns: SNSClient, name: string): Promise<PushPlatformApplications> {
  const platforms = Object.keys(pushPlatforms) as PushPlatform[];
  const arns = await Promise.all(
    platforms.map(async (platform) => {
      const { PlatformApplicationArn } = await sns.send(
        new CreatePlatformApplicationCommand({
          Name: name,
          Platform: pushPlatforms[platform],
          Attributes: { PlatformCredential: 'local', PlatformPrincipal: 'local' },
        }),
      );
      return [platform, PlatformApplicationArn!] as const;
    }),
  );
  return Object.fromEntries(arns);
}
