/**
 * Granting downloads. The server cannot know who may read a blob (its id travels inside end-to-end
 * encrypted messages), so any signed-in device that knows the id gets a short-lived URL, within its
 * download rate limit.
 */
import { ParleyError } from '../protocol/errors';
import type { MediaDownloadAnswer } from '../protocol/media-api';
import type { Deps } from '../runtime/deps';
import { DOWNLOAD_URL_SECONDS } from './constants';
import { findBlob, presignBlobGet } from './media-bucket';

export async function grantDownload(deps: Deps, mediaId: string): Promise<MediaDownloadAnswer> {
  const blob = await findBlob(deps, mediaId);
  if (!blob) throw new ParleyError('NOT_FOUND', 'No media with this id: it was never uploaded, its upload did not finish, or it expired', { mediaId });
  return { mediaId, size: blob.size, download: await presignBlobGet(deps, mediaId, DOWNLOAD_URL_SECONDS) };
}
