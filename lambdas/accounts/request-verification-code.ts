/** POST /v1/verification/code — texts a one-time code to the number. The code is never in the response. */
import { RequestCodeBody } from '../protocol/accounts-api';
import { publicHttpRoute } from '../runtime/http-route';
import { requestVerificationCode } from './registration';
import { smsLimitsOf } from './sms-limits';

export const handler = publicHttpRoute('requestVerificationCode', RequestCodeBody, async ({ body, sourceIp }, deps) => ({
  status: 202,
  body: await requestVerificationCode(deps, smsLimitsOf(deps), { phoneNumber: body.phoneNumber, sourceIp }),
}));
