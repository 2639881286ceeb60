/** Contact discovery, the server-side contact list, privacy settings and blocks, over the HTTP API. */
import type { LookupAnswer, PresenceView } from '../lambdas/protocol/contacts-api';
import type { PrivacySettings } from '../lambdas/tables/presence';
import type { HttpClient } from './http-client';

export type { PrivacySettings };

export class Contacts {
  constructor(private readonly http: HttpClient) {}

  /** Which of these E.164 numbers (up to 500) have accounts; counts against the device's daily quota of 1,000 numbers. */
  async lookup(phoneNumbers: readonly string[]): Promise<LookupAnswer['found']> {
    return (await this.http.request<LookupAnswer>('POST', '/v1/directory/lookup', { phoneNumbers })).found;
  }

  async list(): Promise<string[]> {
    return (await this.http.request<{ userIds: string[] }>('GET', '/v1/contacts')).userIds;
  }

  /** Replaces the contact list (presence privacy reads it). */
  async set(userIds: readonly string[]): Promise<string[]> {
    return (await this.http.request<{ userIds: string[] }>('PUT', '/v1/contacts', { userIds })).userIds;
  }

  privacy(): Promise<PrivacySettings> {
    return this.http.request<PrivacySettings>('GET', '/v1/privacy');
  }

  /** Changes some settings, for every device of the account; answers them all. */
  setPrivacy(change: Partial<PrivacySettings>): Promise<PrivacySettings> {
    return this.http.request<PrivacySettings>('PUT', '/v1/privacy', change);
  }

  block(userId: string): Promise<void> {
    return this.http.request('PUT', `/v1/blocks/${encodeURIComponent(userId)}`);
  }

  unblock(userId: string): Promise<void> {
    return this.http.request('DELETE', `/v1/blocks/${encodeURIComponent(userId)}`);
  }

  async blocked(): Promise<{ userId: string; blockedAt: number }[]> {
    return (await this.http.request<{ blocks: { userId: string; blockedAt: number }[] }>('GET', '/v1/blocks')).blocks;
  }

  presence(userId: string): Promise<PresenceView> {
    return this.http.request<PresenceView>('GET', `/v1/presence/${encodeURIComponent(userId)}`);
  }
}
