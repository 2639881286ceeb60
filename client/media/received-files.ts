/** Where received attachments are saved: a folder, each under its sender-given name made safe, never overwriting. */
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Attachment } from './attachment';

/** A sender-given file name as a plain name in the folder: no path, no leading dot, no control or reserved characters. */
export function safeFileName(attachment: Pick<Attachment, 'fileName' | 'mediaId'>): string {
  const base = path.basename((attachment.fileName ?? '').replace(/\\/g, '/'));
  const cleaned = base.replace(/[^\p{L}\p{N}._ ()-]/gu, '_').replace(/^[.\s]+/, '').slice(0, 200);
  return cleaned || attachment.mediaId;
}

/** A path in `folder` for the attachment that no file has yet: `name.ext`, then `name (2).ext`, … */
export async function receivedFilePath(folder: string, attachment: Pick<Attachment, 'fileName' | 'mediaId'>): Promise<string> {
  await mkdir(folder, { recursive: true });
  const name = safeFileName(attachment);
  const { name: stem, ext } = path.parse(name);
  for (let n = 1; ; n++) {
    const candidate = path.join(folder, n === 1 ? name : `${stem} (${n})${ext}`);
    const taken = await access(candidate).then(() => true, () => false);
    if (!taken) return candidate;
  }
}
