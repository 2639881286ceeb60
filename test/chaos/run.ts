#!/usr/bin/env -S npx tsx
/**
 * `npm run chaos`: the fault campaign at full size against a local stack of its own (loopback only,
 * bounded in messages and time). Prints the counts and exits non-zero if anything was lost, repeated or
 * out of order.
 *   --senders N --recipients N --messages N   size (default 10 × 10 × 30: 3,000 messages, 6,000 deliveries)
 *   --fault-rate P --drop-rate P --restarts N  faults (default 0.2, 0.3, 2)
 *   --minutes N                                 gives up after this long (default 5)
 */
import { parseArgs } from 'node:util';
import { useLocalProcessEnvironment } from '../../local/process-environment';
import { runChaosCampaign } from './campaign';

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      senders: { type: 'string', default: '10' },
      recipients: { type: 'string', default: '10' },
      messages: { type: 'string', default: '30' },
      'fault-rate': { type: 'string', default: '0.2' },
      'drop-rate': { type: 'string', default: '0.3' },
      restarts: { type: 'string', default: '2' },
      minutes: { type: 'string', default: '5' },
    },
  });
  useLocalProcessEnvironment('ERROR');
  const report = await runChaosCampaign({
    senders: Number(values.senders),
    recipients: Number(values.recipients),
    messagesPerConversation: Number(values.messages),
    faultRate: Number(values['fault-rate']),
    socketDropRate: Number(values['drop-rate']),
    restarts: Number(values.restarts),
    timeoutMs: Number(values.minutes) * 60_000,
    log: (line) => console.log(line),
  });
  console.log(JSON.stringify(report, null, 2));
  const { sent, expected, delivered, lost, duplicated, outOfOrder } = report;
  console.log(`sent ${sent}, deliveries owed ${expected}, delivered ${delivered}, lost ${lost}, duplicated ${duplicated}, conversations out of order ${outOfOrder}`);
  return lost === 0 && duplicated === 0 && outOfOrder === 0 && delivered === expected ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('The chaos campaign failed to run:', error);
    process.exit(2);
  },
);
