import { PublishCommand } from '@aws-sdk/client-sns';
import type { Deps } from '../runtime/deps';
import { METRIC, recordMetric } from '../runtime/metrics';

/**
 * Sends a transactional SMS (delivered even to numbers that opted out of promotional ones). A failure is
 * rethrown by its name only: SNS's messages can quote the phone number, and a failed route is logged.
 */
export async function sendSms(deps: Deps, phoneNumber: string, message: string): Promise<void> {
  try {
    await deps.clients.sns.send(
      new PublishCommand({
        PhoneNumber: phoneNumber,
        Message: message,
        MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
      }),
    );
    recordMetric(METRIC.smsSent);
  } catch (error) {
    throw new Error(`SNS refused the SMS: ${(error as Error).name}`);
  }
}
