/**
 * `POST /local/redrive` on the local HTTP gateway: what `npm run redrive -- --local URL` calls on a running
 * `npm start`. The body is `{"dryRun"?: boolean, "giveUp"?: boolean}` (or empty); the answer is the
 * redrive's counts. It belongs to the local runtime, not to the API: AWS has no such route.
 */
import { z } from 'zod';
import type { RedriveOptions, RedriveReport } from '../lambdas/fanout/redrive';
import type { LocalRoute } from './http-gateway';

export const REDRIVE_ROUTE = 'POST /local/redrive';

export const RedriveRequest = z.strictObject({ dryRun: z.boolean().optional(), giveUp: z.boolean().optional() });
export type RedriveRequest = z.infer<typeof RedriveRequest>;

export function redriveRoute(redrive: (options: Omit<RedriveOptions, 'bucket'>) => Promise<RedriveReport>): LocalRoute {
  return async (body) => {
    let request: unknown = {};
    try {
      if (body.length > 0) request = JSON.parse(body.toString('utf8'));
    } catch {
      return { statusCode: 400, body: { message: 'The body must be JSON: {"dryRun"?: boolean, "giveUp"?: boolean}' } };
    }
    const parsed = RedriveRequest.safeParse(request);
    if (!parsed.success) {
      return { statusCode: 400, body: { message: `Bad redrive request: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ')}` } };
    }
    try {
      return { statusCode: 200, body: await redrive(parsed.data) };
    } catch (error) {
      return { statusCode: 500, body: { message: `Redrive failed: ${(error as Error).message}` } };
    }
  };
}
