import { InvocationSlots } from '../../local/function-threads/invocation-slots';
import type { LazyHandler } from '../../local/function-handlers';

/** Clients that are only their slot's name; each handler answers with the clients it was given, when told. */
function slotsAnsweringWhenTold() {
  const waiting: (() => void)[] = [];
  const loads: string[] = [];
  const slots = new InvocationSlots(
    (name) => ({ name }),
    (functionId, clients): LazyHandler =>
      Object.assign((event: unknown) => new Promise((resolve) => waiting.push(() => resolve({ functionId, slot: clients.name, event }))), {
        load: async () => {
          loads.push(`${functionId} in ${clients.name}`);
          return async () => undefined;
        },
      }),
  );
  return { slots, loads, answerNext: () => waiting.shift()!() };
}

describe('InvocationSlots', () => {
  describe('invoke', () => {
    it('gives invocations running at once slots of their own, and reuses a slot once its invocation has ended', async () => {
      const { slots, answerNext } = slotsAnsweringWhenTold();
      const first = slots.invoke('send', 1);
      const second = slots.invoke('fanout', 2);
      answerNext();
      answerNext();
      await expect(Promise.all([first, second])).resolves.toEqual([
        { functionId: 'send', slot: 'slot 1', event: 1 },
        { functionId: 'fanout', slot: 'slot 2', event: 2 },
      ]);
      const third = slots.invoke('send', 3);
      answerNext();
      await expect(third).resolves.toEqual({ functionId: 'send', slot: 'slot 2', event: 3 });
      expect(slots.size).toBe(2);
    });

    it('frees the slot of an invocation that failed', async () => {
      const slots = new InvocationSlots(
        (name) => name,
        (): LazyHandler => Object.assign(async () => Promise.reject(new Error('refused')), { load: async () => async () => undefined }),
      );
      await expect(slots.invoke('send', {})).rejects.toThrow('refused');
      await expect(slots.invoke('send', {})).rejects.toThrow('refused');
      expect(slots.size).toBe(1);
    });
  });

  describe('load', () => {
    it('loads a function in a free slot, making one only when there is none', async () => {
      const { slots, loads, answerNext } = slotsAnsweringWhenTold();
      await slots.load('send');
      const running = slots.invoke('send', 1);
      await slots.load('fanout');
      answerNext();
      await running;
      expect(loads).toEqual(['send in slot 1', 'fanout in slot 2']);
      expect(slots.size).toBe(2);
    });
  });
});
