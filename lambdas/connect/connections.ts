/** Talking to live WebSocket connections through API Gateway's `@connections` API. */
import { DeleteConnectionCommand, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ServerFrame } from '../protocol/frames';
import type { Deps } from '../runtime/deps';

/** API Gateway answers 410 Gone for a connection that closed; SDK v3 names the error GoneException. */
const isGone = (error: unknown) => (error as { name?: string })?.name === 'GoneException';

/** Sends one frame; answers 'gone' if the connection no longer exists. */
export async function postFrame(deps: Deps, connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'> {
  try {
    await deps.clients.connections.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from(JSON.stringify(frame)) }),
    );
    return 'sent';
  } catch (error) {
    if (isGone(error)) return 'gone';
    throw error;
  }
}

/** Closes a connection; closing one that is already gone is not an error. */
export async function closeConnection(deps: Deps, connectionId: string): Promise<void> {
  try {
    await deps.clients.connections.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
  } catch (error) {
    if (!isGone(error)) throw error;
  }
}
