/** The `{mediaId}` of a media route's path, or BAD_REQUEST. */
import { ParleyError } from '../protocol/errors';
import { MediaId } from '../protocol/media-api';
import { describeIssues } from '../runtime/websocket-route';

export function mediaIdOf(pathParameters: Readonly<Record<string, string | undefined>>): string {
  const mediaId = MediaId.safeParse(pathParameters.mediaId);
  if (!mediaId.success) throw new ParleyError('BAD_REQUEST', describeIssues(mediaId.error));
  return mediaId.data;
}
