/**
 * The silent push that wakes an offline device: it says nothing but "connect and SYNC". No message id,
 * sender, conversation or ciphertext goes through Apple or Google; the device fetches the message itself.
 */
import type { MessageAttributeValue, PublishCommandInput } from '@aws-sdk/client-sns';
import { pushPlatforms, type PushPlatform } from '../resources';

export type WakeUpMessage = Required<Pick<PublishCommandInput, 'Message' | 'MessageStructure' | 'MessageAttributes'>>;

/** APNs' background notification: no alert, no sound, no badge; the app gets time to fetch. */
const APNS_BACKGROUND = { aps: { 'content-available': 1 } };

/**
 * FCM's HTTP v1 message (SNS forwards `fcmV1Message.message` as is): data only, so the app's code runs
 * instead of the system showing a notification, at high priority so Android delivers it to an idle
 * device at once. Later wake-ups replace an undelivered one (`collapse_key`). The `apns` block serves iOS
 * apps that use FCM.
 */
const FCM_DATA_ONLY = {
  fcmV1Message: {
    message: {
      data: { wake: '1' },
      android: { priority: 'high', collapse_key: 'wake' },
      apns: { headers: { 'apns-push-type': 'background', 'apns-priority': '5' }, payload: APNS_BACKGROUND },
    },
  },
};

const attribute = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** What to publish to an endpoint of `platform` (with `MessageStructure: 'json'`, one entry per SNS platform). */
export function wakeUpMessage(platform: PushPlatform): WakeUpMessage {
  const snsPlatform = pushPlatforms[platform];
  const payload = JSON.stringify(platform === 'fcm' ? FCM_DATA_ONLY : APNS_BACKGROUND);
  return {
    MessageStructure: 'json',
    Message: JSON.stringify({ default: payload, [snsPlatform]: payload }),
    // Apple requires a background push to say so, at priority 5 (10 is refused for background pushes).
    MessageAttributes:
      platform === 'fcm'
        ? {}
        : { 'AWS.SNS.MOBILE.APNS.PUSH_TYPE': attribute('background'), 'AWS.SNS.MOBILE.APNS.PRIORITY': attribute('5') },
  };
}
