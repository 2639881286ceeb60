/**
 * A function thread's invocations, each in a slot of its own with SDK clients of its own, as each concurrent
 * Lambda invocation has a sandbox: a slot's DynamoDB and Kinesis requests carry the slot's name, so the
 * emulators' `FairRequestQueue` serves invocations in turn. Naming them through an `AsyncLocalStorage` instead
 * turned on Node 20's promise hooks for every promise of the thread, ~40 µs of CPU on each SDK call
 * (~10%: 330–420 against 370–470 µs per GetItem, in process). A slot runs one invocation at a time and is
 * reused; there are as many as the thread has had invocations at once.
 *
 * @example
 * const slots = new InvocationSlots(
 *   (name) => createClients({ ...settings, requestHandlers: handlersNamed(name) }),
 *   (functionId, clients) => loadedOnFirstCall(functionId, { env: environments[functionId], clients, now: Date.now }),
 * );
 * const answer = await slots.invoke('send', event);
 */
import type { FunctionId } from '../../lambdas/functions';
import type { LazyHandler } from '../function-handlers';

interface Slot<C> {
  readonly invokers: Map<FunctionId, LazyHandler>;
  readonly clients: C;
}

/** `C`: a slot's clients (`Clients` on a function thread). */
export class InvocationSlots<C> {
  private readonly free: Slot<C>[] = [];
  private made = 0;

  /**
   * `clientsFor(name)`: a slot's own clients, their requests named `name`; `handlerFor`: a function's handler
   * with a slot's clients (`loadedOnFirstCall`).
   */
  constructor(
    private readonly clientsFor: (name: string) => C,
    private readonly handlerFor: (functionId: FunctionId, clients: C) => LazyHandler,
  ) {}

  /** Slots made so far: the most invocations the thread has run at once. */
  get size(): number {
    return this.made;
  }

  async invoke(functionId: FunctionId, event: unknown): Promise<unknown> {
    const slot = this.free.pop() ?? this.make();
    try {
      return await this.invokerOf(slot, functionId)(event);
    } finally {
      this.free.push(slot);
    }
  }

  /** Loads a function's module now (it is shared by every slot), so that its first invocation here is warm. */
  load(functionId: FunctionId): Promise<unknown> {
    if (this.free.length === 0) this.free.push(this.make());
    return this.invokerOf(this.free.at(-1)!, functionId).load();
  }

  private make(): Slot<C> {
    return { invokers: new Map(), clients: this.clientsFor(`slot ${++this.made}`) };
  }

  private invokerOf(slot: Slot<C>, functionId: FunctionId): LazyHandler {
    let invoke = slot.invokers.get(functionId);
    if (!invoke) slot.invokers.set(functionId, (invoke = this.handlerFor(functionId, slot.clients)));
    return invoke;
  }
}
