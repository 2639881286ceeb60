import { ParleyClient } from '../../../client';
import { ParleyApiError } from '../../../client/errors';
import { parseCommandArgs, requireArgs, type CliCommand } from '../command';
import { CliError } from '../errors';

export const register: CliCommand = {
  name: 'register',
  usage: '<phoneNumber> [deviceName] [--code CODE]',
  summary: 'register an account with this device as its first; asks for the code texted to the number',
  details: `Options:
  --code CODE   a code already received: registers with it and asks the server for no new one
                (a number gets one code a minute and five a day)
The phone number is in E.164 form, such as +14155550123. Against \`npm start\` the code is in its log.`,
  needsDevice: false,
  async run({ args, io, client, storeDirectory }) {
    const { values, positionals } = parseCommandArgs(register, args, { code: { type: 'string' } });
    requireArgs(register, positionals, 1);
    const [phoneNumber, deviceName] = positionals as [string, string | undefined];
    let code = values.code;
    if (!code) {
      try {
        await ParleyClient.requestVerificationCode(client, phoneNumber);
      } catch (error) {
        if (error instanceof ParleyApiError && error.code === 'RATE_LIMITED') {
          const wait = error.retryAfterSeconds !== undefined ? `try again in ${error.retryAfterSeconds} s` : 'try again later';
          throw new CliError(`no new code for ${phoneNumber} yet: ${wait}, or enter the code you already have with \`parley --store ${storeDirectory} register ${phoneNumber} --code CODE\``);
        }
        throw error;
      }
      code = await io.ask(`The code texted to ${phoneNumber}: `);
      if (!code) throw new CliError(`no code entered: nothing registered; when you have the code, run \`parley --store ${storeDirectory} register ${phoneNumber} --code CODE\``);
    }
    const device = await ParleyClient.register({ ...client, phoneNumber, code, ...(deviceName ? { deviceName } : {}) });
    device.close();
    io.print(`Registered: userId ${device.userId}, device ${device.deviceId}`);
  },
};
