// herald-realtime: the browser and Node client of Herald. See README.md and docs/protocol.md.

export { Herald } from './client.js';
export { Subscription } from './subscription.js';
export { HeraldError } from './errors.js';
export { ALL_TRANSPORTS, DEFAULT_TRANSPORTS } from './types.js';
export type {
  BackoffOptions,
  ClientEvents,
  ConnectedEvent,
  ConnectingEvent,
  ConnectionState,
  DisconnectedEvent,
  EventSourceConstructor,
  EventSourceLike,
  FallbackOptions,
  Handler,
  HeraldOptions,
  HistoryOptions,
  HistoryPage,
  Position,
  Publication,
  PublishOptions,
  PublishResult,
  RecoveredEvent,
  ResetEvent,
  SubscribedEvent,
  SubscribeOptions,
  SubscriptionEvents,
  TokenSource,
  TransportName,
  UnsubscribedEvent,
  WebSocketConstructor,
  WebSocketLike,
} from './types.js';
