/** POST /v1/accounts — checks the SMS code and creates the account with its primary device. */
import { RegisterAccountBody } from '../protocol/accounts-api';
import { publicHttpRoute } from '../runtime/http-route';
import { registerAccount } from './registration';

export const handler = publicHttpRoute('registerAccount', RegisterAccountBody, async ({ body }, deps) => ({
  status: 201,
  body: await registerAccount(deps, body),
}));
