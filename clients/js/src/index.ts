// herald-realtime: the browser and Node client of Herald. See README.md and docs/protocol.md.

export { Herald } from './client.js';
export { Subscription } from './subscription.js';
export { SummarySubscription } from './summary.js';
export { UnreadTracker } from './tracker.js';
export { ReceiptTracker } from './receipts.js';
export { HeraldError } from './errors.js';
export { directChannel } from './direct.js';
export { PresenceList } from './presence.js';
export { LatestView } from './latest.js';
export type { LatestViewOptions } from './latest.js';
export { ALL_TRANSPORTS, DEFAULT_TRANSPORTS } from './types.js';
export type {
  ActionOptions,
  BackoffOptions,
  ClientEvents,
  ConnectedEvent,
  ConnectingEvent,
  ConnectionState,
  DirectChannel,
  DisconnectedEvent,
  EventSourceConstructor,
  EventSourceLike,
  FallbackOptions,
  Handler,
  HeraldOptions,
  HistoryOptions,
  HistoryPage,
  LatestMessage,
  LatestPage,
  Position,
  PresenceEvent,
  PresenceMember,
  PresenceMode,
  PresencePosition,
  Publication,
  PublishOptions,
  PublishResult,
  ReactionCount,
  ReactionPolicy,
  RecoveredEvent,
  ResetEvent,
  SignalEvent,
  SubscribedEvent,
  SubscribeOptions,
  SubscriptionEvents,
  ThreadSummary,
  TokenSource,
  TransportName,
  UnsubscribedEvent,
  TypingEvent,
  TypingTimings,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
export type {
  ChannelReceipts,
  ChannelSummary,
  ChannelUnread,
  MarkDeliveredOptions,
  MarkDeliveredResult,
  MarkReadOptions,
  MarkReadResult,
  MemberReceipts,
  ReadMarker,
  ReceiptsEvent,
  ReceiptTrackerEvents,
  SummaryEvents,
  SummarySubscribedEvent,
  UnreadCount,
  UnreadReport,
  UnreadTrackerEvents,
  UnreadTrackerOptions,
} from './read-types.js';
