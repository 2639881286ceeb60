import type { TransferProgress } from '../../client/media/media-transfers';

/** `[#####-----] 52% uploading 2.6/5.0 MB`: the line for a transfer's progress. */
export function progressLine({ phase, bytes, totalBytes }: TransferProgress, width = 20): string {
  const percent = totalBytes ? Math.floor((bytes / totalBytes) * 100) : 100;
  const filled = Math.floor((percent * width) / 100);
  return `[${'#'.repeat(filled).padEnd(width, '-')}] ${String(percent).padStart(3)}% ${phase.padEnd(10)} ${(bytes / 1e6).toFixed(1)}/${(totalBytes / 1e6).toFixed(1)} MB`;
}

/** Calls `show` each time the line changes (every whole percent), not on every chunk. */
export function progressBar(show: (line: string) => void): (progress: TransferProgress) => void {
  let shown = '';
  return (progress) => {
    const line = progressLine(progress);
    if (line === shown) return;
    shown = line;
    show(line);
  };
}
