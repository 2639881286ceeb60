/**
 * The stack's assertion tests in one jest file, so that they share one load of aws-cdk-lib and one build
 * per context (`synthParley` in fixture.ts): as fourteen files they paid both fourteen times, about 45 s
 * of CPU in all. Each area's tests live beside this file in `<area>.assertions.ts`; run one area with
 * `npx jest test/cdk/stack -t '<its describe>'`.
 */
import './checks.assertions';
import './expiry-consumers.assertions';
import './functions.assertions';
import './http-api.assertions';
import './keys.assertions';
import './media.assertions';
import './observability.assertions';
import './parley-stack.assertions';
import './presence.assertions';
import './stages.assertions';
import './storage.assertions';
import './stream-consumers.assertions';
import './websocket-api.assertions';
