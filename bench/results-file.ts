/**
 * A section run alone (`--group-only`, `--media-only`, `npm run bench:bundles`) replaces its own entry of the
 * results file and leaves the others; a full run's targets are judged again with the new figures.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Results } from './report';
import { targetChecks } from './targets';

export function replaceInResults(file: string, entry: Partial<Omit<Results, 'targets'>>): void {
  const updated: Partial<Results> = { ...(existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<Results>) : {}), ...entry };
  if (updated.targets) Object.assign(updated, { targets: targetChecks(updated as Omit<Results, 'targets'>) });
  writeFileSync(file, `${JSON.stringify(updated, null, 2)}\n`);
}
