/** What the local SNS endpoint would have sent: one entry per accepted Publish. */
export interface SnsDelivery {
  readonly kind: 'sms' | 'push';
  /** The phone number (SMS) or the platform endpoint ARN (push). */
  readonly to: string;
  readonly message: string;
  /**
   * What the device would get: for a push published with `MessageStructure=json`, the entry for its
   * endpoint's platform (`APNS`, `GCM`, …) or else `default`; otherwise the message itself.
   */
  readonly payload: string;
  /** Message attributes by name: the string value, or the base64 of a binary one. */
  readonly attributes: Readonly<Record<string, string>>;
  /** Epoch milliseconds of the publish. */
  readonly at: number;
}

export type DeliveryPredicate = (delivery: SnsDelivery) => boolean;

interface Waiter {
  readonly predicate: DeliveryPredicate;
  readonly resolve: (delivery: SnsDelivery) => void;
}

/** Every delivery in order, and a way to await one, so tests need no polling. */
export class Outbox {
  readonly deliveries: SnsDelivery[] = [];
  private readonly waiters = new Set<Waiter>();

  record(delivery: SnsDelivery): void {
    this.deliveries.push(delivery);
    for (const waiter of this.waiters) {
      if (waiter.predicate(delivery)) waiter.resolve(delivery);
    }
  }

  /**
   * The first delivery, already recorded or still to come, that matches `predicate`; rejects after
   * `timeoutMs` (default 2 s).
   */
  waitFor(predicate: DeliveryPredicate, timeoutMs = 2000): Promise<SnsDelivery> {
    const recorded = this.deliveries.find(predicate);
    if (recorded) return Promise.resolve(recorded);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (delivery) => {
          this.waiters.delete(waiter);
          clearTimeout(timer);
          resolve(delivery);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`No matching SNS delivery within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
