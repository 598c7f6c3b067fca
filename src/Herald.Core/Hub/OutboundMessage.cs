using Herald.Engine;

namespace Herald.Hub;

/// <summary>
/// One queued message: its bytes, already encoded in the session's wire format and shared between
/// sessions, and — for a publication — the publication itself, so that a transport that must add
/// something per session (the SSE <c>id:</c> cursor, the stream's <c>cursor</c> member) can do so
/// without re-encoding the message.
/// </summary>
public readonly record struct OutboundMessage(ReadOnlyMemory<byte> Bytes, Publication? Publication = null);
