/**
 * The `@connections` management API of a WebSocket stage (`POST`, `GET`, `DELETE` on
 * `/{stage}/@connections/{connectionId}`), answering as API Gateway does so that the real
 * `ApiGatewayManagementApiClient` sees the same results and throws the same named errors
 * (`GoneException`, `PayloadTooLargeException`). Requests come from our own handlers: any SigV4
 * signature, or none, is accepted.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson, tooLarge } from './http-io';
import { splitTarget } from './request-parameters';
import { gatewayDisconnects } from './websocket-disconnects';
import type { GatewayConnection } from './websocket-connection';

export interface ConnectionsApi {
  readonly stage: string;
  /** The open connection with this id, if any. */
  readonly find: (connectionId: string) => GatewayConnection | undefined;
  /** Largest message a `POST` may carry (128 KB on AWS). */
  readonly messageBytes: number;
}

/** The connection id of a `/{stage}/@connections/{id}` path, or undefined for any other path. */
export function connectionIdOf(url: string, stage: string): string | undefined {
  const segments = splitTarget(url).path.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  });
  const [root, stageName, collection, id, ...rest] = segments;
  const matches = root === '' && stageName === stage && collection === '@connections' && id && rest.length === 0;
  return matches ? id : undefined;
}

/** Answers the way the management API answers errors: the error type in a header, a message in the body. */
function sendError(res: ServerResponse, statusCode: number, errorType: string, message: string): void {
  sendJson(res, statusCode, { message }, { 'x-amzn-ErrorType': errorType, 'x-amzn-RequestId': randomUUID() });
}

const sendGone = (res: ServerResponse) => sendError(res, 410, 'GoneException', 'Gone');

/** Serves one request whose path is a connection's (see {@link connectionIdOf}). */
export async function serveConnectionsRequest(
  api: ConnectionsApi,
  connectionId: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const requestId = { 'x-amzn-RequestId': randomUUID() };
  switch (req.method) {
    case 'POST': {
      const body = await readBody(req, api.messageBytes);
      if (body === tooLarge) return sendError(res, 413, 'PayloadTooLargeException', 'Message too long');
      const connection = api.find(connectionId);
      if (!connection) return sendGone(res);
      connection.send(body);
      res.writeHead(200, { ...requestId, 'content-length': 0 }).end();
      return;
    }
    case 'GET': {
      req.resume();
      const connection = api.find(connectionId);
      if (!connection) return sendGone(res);
      const { connectedAt, sourceIp, userAgent } = connection.facts;
      // The wire names are camel-case; the SDK turns them into ConnectedAt, Identity and LastActiveAt.
      return sendJson(
        res,
        200,
        {
          connectedAt: new Date(connectedAt).toISOString(),
          identity: { sourceIp, userAgent: userAgent ?? '' },
          lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
        },
        requestId,
      );
    }
    case 'DELETE': {
      req.resume();
      const connection = api.find(connectionId);
      if (!connection) return sendGone(res);
      connection.end(gatewayDisconnects.deleted);
      res.writeHead(204, requestId).end();
      return;
    }
    default:
      req.resume();
      return sendError(res, 403, 'ForbiddenException', 'Forbidden');
  }
}
