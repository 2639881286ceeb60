/**
 * Which devices a message goes to, each with a Signal session: every device of the recipient and every
 * other device of this account. A user's device list is learned from the Key Distribution Service the
 * first time, then corrected by the server's MISMATCHED_DEVICES answer: missing devices get a session from
 * a freshly fetched bundle (only theirs), extra devices lose theirs. A STALE_DEVICES answer names devices
 * whose id has a new holder (a number registered again): their sessions are replaced from fresh bundles.
 */
import type { DeviceBundle, KeyDirectory } from './key-directory';
import { KeyedQueue } from './keyed-queue';
import type { DeviceAddress, SessionManager } from './session-manager';
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';

/** A device the server says exists has published no keys, so nothing can be encrypted to it (yet). */
export class NoKeysError extends Error {
  constructor(
    /** The devices without keys; empty when the user has published none at all. */
    readonly devices: readonly DeviceAddress[],
    userId = devices[0]?.userId,
  ) {
    super(devices.length ? `no prekeys published for ${devices.map((d) => `${d.userId}.${d.deviceId}`).join(', ')}` : `user ${userId} has published no prekeys`);
    this.name = 'NoKeysError';
  }
}

export interface DeviceMismatch {
  readonly missingDevices: readonly DeviceAddress[];
  readonly extraDevices: readonly DeviceAddress[];
}

export class Recipients {
  /** One user's list and sessions change one operation at a time: two sends must not both fetch its bundles. */
  private readonly perUser = new KeyedQueue();

  constructor(
    private readonly store: KeyValueStore,
    private readonly sessions: SessionManager,
    private readonly directory: KeyDirectory,
    private readonly self: DeviceAddress,
  ) {}

  /** The devices a message to `userId` is encrypted for, each with a session: the recipient's and this account's others. */
  async devicesFor(userId: string): Promise<DeviceAddress[]> {
    const users = userId === this.self.userId ? [userId] : [userId, this.self.userId];
    const lists = await Promise.all(users.map((user) => this.perUser.run(user, () => this.devicesOf(user))));
    return lists.flat();
  }

  /** Every device of these users (this device excepted), each with a session: a group's member devices. */
  async devicesOfUsers(userIds: readonly string[]): Promise<DeviceAddress[]> {
    const lists = await Promise.all([...new Set(userIds)].map((user) => this.perUser.run(user, () => this.devicesOf(user))));
    return lists.flat();
  }

  /** Applies the server's MISMATCHED_DEVICES answer to the device lists and sessions. */
  async correct(mismatch: DeviceMismatch): Promise<void> {
    const users = new Set([...mismatch.extraDevices, ...mismatch.missingDevices].map((device) => device.userId));
    await Promise.all(
      [...users].map((userId) =>
        this.perUser.run(userId, async () => {
          for (const device of mismatch.extraDevices.filter((d) => d.userId === userId)) {
            await this.sessions.dropSession(device);
            await this.updateList(userId, (list) => list.filter((id) => id !== device.deviceId));
          }
          // The server says these devices exist: one without keys cannot be written to (yet).
          const withoutKeys = await this.startSessions(mismatch.missingDevices.filter((d) => d.userId === userId && !this.isSelf(d)));
          if (withoutKeys.length) throw new NoKeysError(withoutKeys);
        }),
      ),
    );
  }

  /**
   * Applies the server's STALE_DEVICES answer: each of these device ids has a new holder with a new
   * registration, so its session (made with the earlier one) goes and a new one starts from its bundle.
   */
  renewStale(staleDevices: readonly DeviceAddress[]): Promise<void> {
    return this.correct({ extraDevices: staleDevices, missingDevices: staleDevices });
  }

  /** A message came from `device`: a device list this client keeps gains it (a peer's newly linked device). */
  async noteDevice(device: DeviceAddress): Promise<void> {
    if (this.isSelf(device)) return;
    await this.perUser.run(device.userId, async () => {
      const list = await getJson<number[]>(this.store, ns.deviceLists, device.userId);
      if (list && !list.includes(device.deviceId)) await this.updateList(device.userId, (ids) => [...ids, device.deviceId]);
    });
  }

  private async devicesOf(userId: string): Promise<DeviceAddress[]> {
    const list = await getJson<number[]>(this.store, ns.deviceLists, userId);
    if (!list) {
      const [user] = await this.directory.fetchBundles([{ userId }]);
      const bundles = (user?.devices ?? []).filter((bundle) => !this.isSelf({ userId, deviceId: bundle.deviceId }));
      await this.startFrom(userId, bundles);
      await putJson(this.store, ns.deviceLists, userId, bundles.map((bundle) => bundle.deviceId));
      return bundles.map((bundle) => ({ userId, deviceId: bundle.deviceId }));
    }
    const devices = list.map((deviceId) => ({ userId, deviceId }));
    const withoutSession = [];
    for (const device of devices) if (!(await this.sessions.hasSession(device))) withoutSession.push(device);
    // A listed device without a session and without keys is gone: leave it out, the server says if it is not.
    const gone = await this.startSessions(withoutSession);
    if (gone.length) await this.updateList(userId, (ids) => ids.filter((id) => !gone.some((device) => device.deviceId === id)));
    return devices.filter((device) => !gone.includes(device));
  }

  /** Fetches the bundles of exactly these devices and starts a session with each; answers those that have no keys. */
  private async startSessions(devices: readonly DeviceAddress[]): Promise<DeviceAddress[]> {
    if (!devices.length) return [];
    const byUser = new Map<string, number[]>();
    for (const device of devices) byUser.set(device.userId, [...(byUser.get(device.userId) ?? []), device.deviceId]);
    const fetched = await this.directory.fetchBundles([...byUser].map(([userId, deviceIds]) => ({ userId, deviceIds })));
    const found = new Set<string>();
    for (const user of fetched) {
      const wanted = user.devices.filter((bundle) => byUser.get(user.userId)?.includes(bundle.deviceId));
      await this.startFrom(user.userId, wanted);
      await this.updateList(user.userId, (list) => [...new Set([...list, ...wanted.map((bundle) => bundle.deviceId)])]);
      for (const bundle of wanted) found.add(`${user.userId}.${bundle.deviceId}`);
    }
    return devices.filter((device) => !found.has(`${device.userId}.${device.deviceId}`));
  }

  private async startFrom(userId: string, bundles: readonly DeviceBundle[]): Promise<void> {
    await Promise.all(bundles.map((bundle) => this.sessions.startSession(userId, bundle)));
  }

  private async updateList(userId: string, change: (list: number[]) => number[]): Promise<void> {
    const list = (await getJson<number[]>(this.store, ns.deviceLists, userId)) ?? [];
    await putJson(this.store, ns.deviceLists, userId, change(list).sort((a, b) => a - b));
  }

  private isSelf(device: DeviceAddress): boolean {
    return device.userId === this.self.userId && device.deviceId === this.self.deviceId;
  }
}
