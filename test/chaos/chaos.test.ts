/**
 * The fault campaign at a size the suite can afford: messages through the local stack while fanout
 * invocations die, batches are doubled and replayed, sockets drop mid-SYNC and the stack restarts on its
 * data. Nothing may be lost, nothing seen twice after dedupe, every conversation in order.
 */
import { runChaosCampaign } from './campaign';

it('loses nothing, repeats nothing and keeps each conversation in order under faults and a restart', async () => {
  const report = await runChaosCampaign({
    senders: 4,
    recipients: 3,
    messagesPerConversation: 8,
    faultRate: 0.2,
    socketDropRate: 0.3,
    restarts: 1,
    timeoutMs: 90_000,
  });
  process.stdout.write(`chaos: ${JSON.stringify(report)}\n`);
  expect(report).toMatchObject({ sent: 96, expected: 192, delivered: 192, lost: 0, duplicated: 0, outOfOrder: 0 });
  // The faults really happened: a campaign that injected nothing would prove nothing.
  expect(report.faults.killedInvocations + report.faults.doubledBatches + report.faults.replayedBatches).toBeGreaterThan(0);
  expect(report.faults.restarts).toBe(1);
}, 150_000);
