/**
 * Groups: the groups HTTP API, each group's members as this device last learned them (from the API's
 * answers and from GROUP_UPDATE frames), and sending to a group. A group message is encrypted once with
 * this device's Sender Key; before that, every member device that has not got the current key gets it in
 * a 1:1 message (an ordinary SEND per member user, which also reaches this account's other devices). The
 * key is rotated when someone leaves or is removed, and whenever a device holding it is no longer a
 * member device (see SenderKeys.current).
 */
import { randomUUID } from 'node:crypto';
import type { ChangeMembersBody, GroupSummary, MyGroup } from '../lambdas/protocol/groups-api';
import type { GroupUpdateFrame } from '../lambdas/protocol/frames';
import { groupConversationId } from '../lambdas/send/conversations';
import { encodeContent } from './content';
import { ParleyApiError } from './errors';
import type { GroupUpdate } from './events';
import type { HttpClient } from './http-client';
import type { DeliveryOptions, Outbox, SentMessage } from './outbox';
import type { Recipients } from './recipients';
import { deviceKey, type SenderKeys } from './sender-keys';
import type { DeviceAddress } from './session-manager';
import { getJson, namespaces as ns, putJson, type KeyValueStore } from './store/key-value-store';

export type { GroupSummary, MyGroup };

export interface GroupsDeps {
  readonly self: DeviceAddress;
  readonly http: HttpClient;
  readonly store: KeyValueStore;
  readonly recipients: Recipients;
  readonly outbox: Outbox;
  readonly senderKeys: SenderKeys;
  readonly now: () => number;
}

export class Groups {
  constructor(private readonly deps: GroupsDeps) {}

  /** Creates a group with this user as its admin and `memberUserIds` as its other members. */
  async create(name: string, memberUserIds: readonly string[]): Promise<GroupSummary> {
    return this.remember(await this.deps.http.request<GroupSummary>('POST', '/v1/groups', { groupId: randomUUID(), name, members: memberUserIds }));
  }

  /** Adds, removes or makes admins (admins only; any member may remove itself): one change, whole or not at all. */
  async change(groupId: string, change: ChangeMembersBody): Promise<GroupSummary> {
    const group = await this.deps.http.request<GroupSummary>('POST', `/v1/groups/${encodeURIComponent(groupId)}/members`, change);
    if (change.remove?.length) await this.deps.senderKeys.rotate(groupId);
    if (change.remove?.includes(this.deps.self.userId)) {
      await this.forget(groupId);
      return group;
    }
    return this.remember(group);
  }

  async list(): Promise<MyGroup[]> {
    return (await this.deps.http.request<{ groups: MyGroup[] }>('GET', '/v1/groups')).groups;
  }

  /** The group as the server has it now (and remembered for sending). */
  async get(groupId: string): Promise<GroupSummary> {
    try {
      return this.remember(await this.deps.http.request<GroupSummary>('GET', `/v1/groups/${encodeURIComponent(groupId)}`));
    } catch (error) {
      if (error instanceof ParleyApiError && error.code === 'NOT_FOUND') await this.forget(groupId);
      throw error;
    }
  }

  /**
   * Whether `userId` is an admin of the group: as remembered, and when that says no, as the server has it
   * now (a GROUP_UPDATE that made the user admin may not have reached this device yet).
   */
  async isAdmin(groupId: string, userId: string): Promise<boolean> {
    const isAdminOf = (group: GroupSummary | undefined) => !!group?.members.some((member) => member.userId === userId && member.role === 'admin');
    if (isAdminOf(await getJson<GroupSummary>(this.deps.store, ns.groups, groupId))) return true;
    try {
      return isAdminOf(await this.get(groupId));
    } catch (error) {
      if (error instanceof ParleyApiError && error.code === 'NOT_FOUND') return false;
      throw error;
    }
  }

  /** Sends a message to every member device (and this account's others), encrypted once; resolves at the ACK. */
  send(groupId: string, plaintext: Uint8Array, options: DeliveryOptions = {}): Promise<SentMessage> {
    return this.deps.outbox.sendToGroup(groupConversationId(groupId), async (stale) => {
      // After STALE_GROUP the remembered members are out of date: read the group as it is now.
      const remembered = stale ? undefined : await getJson<GroupSummary>(this.deps.store, ns.groups, groupId);
      const group = remembered ?? (await this.get(groupId));
      const distributionId = await this.distribute(group);
      return { ciphertext: await this.deps.senderKeys.encrypt(distributionId, plaintext), groupVersion: group.version };
    }, options);
  }

  /** A GROUP_UPDATE: the remembered members follow it, the Sender Key is rotated when anyone left; answers the app's event. */
  async updated(frame: GroupUpdateFrame): Promise<GroupUpdate> {
    const { groupId } = frame;
    if (frame.removed.length || !frame.complete) await this.deps.senderKeys.rotate(groupId);
    const known = await getJson<GroupSummary>(this.deps.store, ns.groups, groupId);
    if (frame.removed.includes(this.deps.self.userId)) await this.forget(groupId);
    else if (known && known.version >= frame.version) {
      // Already known: this device made the change, or read the group after it.
    } else if (known && known.version + 1 === frame.version && frame.complete) {
      const members = known.members
        .filter((member) => !frame.removed.includes(member.userId))
        .map((member) => (frame.madeAdmin.includes(member.userId) ? { ...member, role: 'admin' as const } : member));
      for (const userId of frame.added) members.push({ userId, role: frame.madeAdmin.includes(userId) ? 'admin' : 'member', joinedAt: frame.serverTs });
      await this.remember({ ...known, name: frame.name, version: frame.version, members });
    } else {
      // Not known, or an update was missed, or a list was cut short: read the group the next time it is needed.
      await this.deps.store.delete(ns.groups, groupId);
    }
    const { changeId, cursor, type, complete, ...update } = frame;
    return update;
  }

  /** Gives this device's current key to every member device that lacks it; answers the key's distributionId. */
  private async distribute(group: GroupSummary): Promise<string> {
    const { recipients, senderKeys, outbox, self } = this.deps;
    const memberUsers = group.members.map((member) => member.userId);
    const devices = await recipients.devicesOfUsers(memberUsers);
    const { distributionId, holders } = await senderKeys.current(group.groupId, devices);
    const lacking = new Set(devices.filter((device) => !holders.includes(deviceKey(device))).map((device) => device.userId));
    if (!lacking.size) return distributionId;
    const skdm = await senderKeys.distributionMessage(distributionId);
    const content = encodeContent({ sentAt: this.deps.now(), senderKey: { groupId: group.groupId, distributionId, skdm } });
    // A SEND to another member reaches this account's other devices too; one to this account only if it is alone.
    const others = [...lacking].filter((userId) => userId !== self.userId);
    const sends = await Promise.all((others.length ? others : [self.userId]).map((userId) => outbox.sendTo(userId, content)));
    await senderKeys.addHolders(group.groupId, distributionId, sends.flatMap((send) => send.devices));
    return distributionId;
  }

  private async remember(group: GroupSummary): Promise<GroupSummary> {
    await putJson(this.deps.store, ns.groups, group.groupId, group);
    return group;
  }

  private async forget(groupId: string): Promise<void> {
    await this.deps.store.delete(ns.groups, groupId);
    await this.deps.senderKeys.rotate(groupId);
  }
}
