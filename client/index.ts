/**
 * Parley's client SDK: end-to-end-encrypted messaging for Node apps and bots, on libsignal.
 *
 * @example
 * import { ParleyClient, FileStore } from './client';
 * const alice = await ParleyClient.open({ httpUrl, webSocketUrl, store: new FileStore('./alice') });
 * alice.on('message', (m) => console.log(`${m.from.userId}: ${m.text}`));
 * await alice.connect();
 * await alice.send(bobUserId, 'hello');
 */
export { ParleyClient, type ParleyClientOptions, type ParleyEndpoints, type SentMessage } from './parley-client';
export type {
  ConnectionState,
  ConnectionStatus,
  ExpiredMessages,
  GroupUpdate,
  IdentityChanged,
  IncomingMessage,
  ParleyEvents,
  PresenceEvent,
  Provisioned,
  Receipt,
  SequenceGap,
  TypingEvent,
  UndecryptableMessage,
} from './events';
export type { Chat, ChatPreview } from './chat-list';
export { receiptCovers } from './delivery-states';
export type { SafetyNumber } from './safety-numbers';
export type { KeyValueStore } from './store/key-value-store';
export { MemoryStore } from './store/memory-store';
export { FileStore, type FileStoreOptions } from './store/file-store';
export { ParleyApiError, ConnectionLostError, ClientClosedError, MessageActionError } from './errors';
export { DISAPPEARING_TIMERS, type DisappearingTimer, type MessageRef } from './content';
export { EDIT_WINDOW_MS, type MessageKind } from './message-actions';
export { NoKeysError } from './recipients';
export type { DeviceAddress, DecryptFailureReason } from './session-manager';
export type { PrekeyPolicy } from './prekeys';
export type { BackoffOptions } from './backoff';
export type { KeyDirectory } from './key-directory';
export type { Attachment } from './media/attachment';
export { AttachmentIntegrityError } from './media/attachment-cipher';
export { AttachmentTooLargeError, type AttachmentOptions, type TransferControls, type TransferProgress } from './media/media-transfers';
export { TransferError } from './media/http-transfer';
