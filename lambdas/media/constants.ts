/** The numbers of the media service, with names. Sizes and kinds are protocol: `lambdas/protocol/media-api.ts`. */
import type { TokenBucketRule } from '../tables/rate-limits';

/** How long a presigned upload URL works: long enough to start a 16 MiB PUT on a slow link, short enough to be worthless when leaked. */
export const UPLOAD_URL_SECONDS = 5 * 60;

/** How long a presigned download URL works. S3 checks it when the download starts, so a slow one still finishes. */
export const DOWNLOAD_URL_SECONDS = 5 * 60;

/**
 * A stored blob is offered for reuse (dedup, forwarding) only while it has at least this long to live: a
 * message that points at it may wait up to 30 days in a device queue, so reusing a blob about to expire
 * would hand recipients an id that is gone before they fetch it. Older blobs are uploaded anew.
 */
export const MIN_REUSE_REMAINING_MS = 7 * 24 * 60 * 60 * 1000;

/** Uploads a device may start: 60 at once, then one every 2 seconds (a person sends far fewer). */
export const UPLOADS_PER_DEVICE: TokenBucketRule = { burst: 60, refillMs: 2_000 };

/**
 * Downloads a device may start: 300 at once (opening a busy group after a week away), then 2 a second. The
 * server cannot tell who may read a blob (the id travels end-to-end encrypted), so this is what keeps a
 * device that learnt ids from scraping the bucket.
 */
export const DOWNLOADS_PER_DEVICE: TokenBucketRule = { burst: 300, refillMs: 500 };
