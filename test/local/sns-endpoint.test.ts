import {
  CreatePlatformApplicationCommand,
  CreatePlatformEndpointCommand,
  DeleteEndpointCommand,
  GetEndpointAttributesCommand,
  PublishCommand,
  SetEndpointAttributesCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { createClients } from '../../lambdas/runtime/clients';
import { startSnsEndpoint, type SnsEndpoint } from '../../local/sns-endpoint';

const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };

describe('snsEndpoint', () => {
  let endpoint: SnsEndpoint;
  let sns: SNSClient;
  const logged: string[] = [];

  beforeAll(async () => {
    endpoint = await startSnsEndpoint({ log: (line) => logged.push(line) });
    const endpoints = { sns: endpoint.endpoint };
    sns = createClients({ region: 'us-east-1', endpoints, credentials: { sns: credentials } }).sns;
  });
  afterAll(async () => {
    sns.destroy();
    await endpoint.close();
  });

  const createApplication = async (Platform = 'GCM') => {
    const application = { Name: 'parley', Platform, Attributes: { PlatformCredential: 'key' } };
    return (await sns.send(new CreatePlatformApplicationCommand(application))).PlatformApplicationArn!;
  };
  const createEndpoint = async (applicationArn: string, Token: string) =>
    (await sns.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: applicationArn, Token }))).EndpointArn!;

  describe('Publish to a phone number', () => {
    it('records the SMS with its attributes and logs it with the number masked', async () => {
      const { MessageId } = await sns.send(
        new PublishCommand({
          PhoneNumber: '+15551234567',
          Message: 'Your Parley code is 424242',
          MessageAttributes: { 'AWS.SNS.SMS.SMSType': { DataType: 'String', StringValue: 'Transactional' } },
        }),
      );

      expect(MessageId).toMatch(/^[0-9a-f-]{36}$/);
      const sms = await endpoint.waitFor((delivery) => delivery.kind === 'sms' && delivery.to === '+15551234567');
      expect(sms).toEqual({
        kind: 'sms',
        to: '+15551234567',
        message: 'Your Parley code is 424242',
        payload: 'Your Parley code is 424242',
        attributes: { 'AWS.SNS.SMS.SMSType': 'Transactional' },
        at: expect.any(Number),
      });
      expect(logged).toContain('SMS to ********4567: Your Parley code is 424242');
      expect(logged.join('\n')).not.toContain('555123');
    });

    it('refuses a number that is not E.164 without echoing it', async () => {
      const publish = sns.send(new PublishCommand({ PhoneNumber: '5551234567', Message: 'hi' }));
      await expect(publish).rejects.toMatchObject({ name: 'InvalidParameterException' });
      await expect(publish).rejects.not.toThrow(/5551234567/);
    });

    it('lets a test wait for a delivery still to come', async () => {
      const next = endpoint.waitFor((delivery) => delivery.message === 'later');
      await sns.send(new PublishCommand({ PhoneNumber: '+447700900123', Message: 'later' }));
      await expect(next).resolves.toMatchObject({ kind: 'sms', to: '+447700900123' });
    });

    it('rejects a wait that no delivery satisfies in time', async () => {
      await expect(endpoint.waitFor((delivery) => delivery.message === 'never', 20)).rejects.toThrow(/within 20 ms/);
    });
  });

  describe('platform endpoints', () => {
    it('returns the same endpoint for the same token and refuses it with different attributes', async () => {
      const applicationArn = await createApplication();
      const create = (customUserData?: string) =>
        sns.send(
          new CreatePlatformEndpointCommand({
            PlatformApplicationArn: applicationArn,
            Token: 'token-1',
            CustomUserData: customUserData,
          }),
        );

      const first = (await create('user-1')).EndpointArn;
      const again = (await create('user-1')).EndpointArn;
      const withoutAttributes = (await create()).EndpointArn;

      expect(first).toMatch(/^arn:aws:sns:us-east-1:000000000000:endpoint\/GCM\/parley\//);
      expect(again).toBe(first);
      expect(withoutAttributes).toBe(first);
      await expect(create('user-2')).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: expect.stringContaining(`${first} already exists with the same Token, but different attributes`),
      });
    });

    it('records a push to an enabled endpoint and refuses a disabled one with EndpointDisabled', async () => {
      const applicationArn = await createApplication();
      const { EndpointArn } = await sns.send(
        new CreatePlatformEndpointCommand({ PlatformApplicationArn: applicationArn, Token: 'token-2' }),
      );
      const message = JSON.stringify({ default: 'new message', GCM: JSON.stringify({ data: { wake: true } }) });

      await sns.send(new PublishCommand({ TargetArn: EndpointArn, Message: message, MessageStructure: 'json' }));
      await sns.send(new SetEndpointAttributesCommand({ EndpointArn, Attributes: { Enabled: 'false' } }));

      expect(endpoint.outbox).toContainEqual(expect.objectContaining({ kind: 'push', to: EndpointArn, message }));
      const { Attributes } = await sns.send(new GetEndpointAttributesCommand({ EndpointArn }));
      expect(Attributes).toEqual({ Enabled: 'false', Token: 'token-2' });
      await expect(sns.send(new PublishCommand({ TargetArn: EndpointArn, Message: 'm' }))).rejects.toMatchObject({
        name: 'EndpointDisabledException',
        $metadata: { httpStatusCode: 400 },
      });
    });

    it('deletes an endpoint idempotently, after which it is NotFound and no longer a publish target', async () => {
      const applicationArn = await createApplication();
      const { EndpointArn } = await sns.send(
        new CreatePlatformEndpointCommand({ PlatformApplicationArn: applicationArn, Token: 'token-3' }),
      );

      await sns.send(new DeleteEndpointCommand({ EndpointArn }));
      await sns.send(new DeleteEndpointCommand({ EndpointArn }));

      await expect(sns.send(new GetEndpointAttributesCommand({ EndpointArn }))).rejects.toMatchObject({
        name: 'NotFoundException',
        $metadata: { httpStatusCode: 404 },
      });
      await expect(sns.send(new PublishCommand({ TargetArn: EndpointArn, Message: 'm' }))).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
    });

    it('gives each endpoint the entry of a JSON message for its platform, or the default', async () => {
      const apns = await createEndpoint(await createApplication('APNS'), 'ab'.repeat(32));
      const gcm = await createEndpoint(await createApplication('GCM'), 'token-4');
      const wns = await createEndpoint(await createApplication('WNS'), 'token-5');
      const message = JSON.stringify({ default: 'plain', APNS: '{"aps":{}}', GCM: '{"data":{}}' });

      for (const TargetArn of [apns, gcm, wns]) {
        await sns.send(new PublishCommand({ TargetArn, Message: message, MessageStructure: 'json' }));
      }

      const payloadTo = (arn: string) => endpoint.outbox.find((delivery) => delivery.to === arn)?.payload;
      expect([payloadTo(apns), payloadTo(gcm), payloadTo(wns)]).toEqual(['{"aps":{}}', '{"data":{}}', 'plain']);
      expect(logged).toContain(`Push to APNS endpoint ${apns.split('/').at(-1)}: {"aps":{}}`);
      await expect(
        sns.send(new PublishCommand({ TargetArn: gcm, Message: '{"default":"x","GCM":{"data":{}}}', MessageStructure: 'json' })),
      ).rejects.toMatchObject({ name: 'InvalidParameterException', message: expect.stringContaining('must be a string') });
    });

    it('lets SetEndpointAttributes change the token, re-enable the endpoint and tag it, as GetEndpointAttributes shows', async () => {
      const EndpointArn = await createEndpoint(await createApplication(), 'token-6');
      await sns.send(new SetEndpointAttributesCommand({ EndpointArn, Attributes: { Enabled: 'false' } }));

      await sns.send(
        new SetEndpointAttributesCommand({ EndpointArn, Attributes: { Token: 'token-7', Enabled: 'true', CustomUserData: 'owner' } }),
      );

      const { Attributes } = await sns.send(new GetEndpointAttributesCommand({ EndpointArn }));
      expect(Attributes).toEqual({ Token: 'token-7', Enabled: 'true', CustomUserData: 'owner' });
      await expect(
        sns.send(new SetEndpointAttributesCommand({ EndpointArn, Attributes: { Enabled: 'maybe' } })),
      ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    });

    it('refuses an application of a platform SNS does not have', async () => {
      await expect(createApplication('PIGEON')).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: expect.stringContaining('Platform'),
      });
    });

    it('refuses an endpoint for an unknown application and a JSON message without a default', async () => {
      const unknownApplication = 'arn:aws:sns:us-east-1:000000000000:app/GCM/unknown';
      await expect(
        sns.send(new CreatePlatformEndpointCommand({ PlatformApplicationArn: unknownApplication, Token: 't' })),
      ).rejects.toMatchObject({ name: 'NotFoundException' });
      await expect(
        sns.send(new PublishCommand({ PhoneNumber: '+15550000000', Message: '{"GCM":"x"}', MessageStructure: 'json' })),
      ).rejects.toMatchObject({
        name: 'InvalidParameterException',
        message: expect.stringContaining('No default entry'),
      });
    });
  });
});
