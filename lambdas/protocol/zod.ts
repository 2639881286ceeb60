/**
 * The validator every schema of Parley's server is written with: `zod/mini`, zod's functional build, whose
 * schemas hold only the checks they use (`z.string().check(z.maxLength(64))`), so a Lambda bundle carries
 * some 25 KB of zod instead of classic zod's 97 KB, whose methods all live on its schema classes and never
 * tree-shake. Same core, so the same validation and the same messages, once the English ones are loaded
 * (classic zod loads them itself; `zod/mini` leaves the choice to us).
 *
 * @example
 * import * as z from '../protocol/zod';
 * const RequestId = z.optional(z.string().check(z.minLength(1), z.maxLength(64)));
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
