import { PublishCommand } from '@aws-sdk/client-sns';
import type { Deps } from '../runtime/deps';

/** Sends a transactional SMS (delivered even to numbers that opted out of promotional ones). */
export async function sendSms(deps: Deps, phoneNumber: string, message: string): Promise<void> {
  await deps.clients.sns.send(
    new PublishCommand({
      PhoneNumber: phoneNumber,
      Message: message,
      MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
    }),
  );
}
