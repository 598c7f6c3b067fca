using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace Herald.Http.OpenApi;

// The JSON Herald writes by hand (to encode once and keep data raw), described as types so the
// OpenAPI document has their schemas. Nothing serializes these; docs/protocol.md is the contract
// they follow, and the integration tests validate real answers against the schemas made of them.

/// <summary>The publish body.</summary>
[Description("The publish body: data and an optional application-defined type. Other members are refused.")]
public sealed class PublishBody
{
    [Description("The message: any JSON value, null included.")]
    public required JsonElement Data { get; init; }

    [Description("Optional application-defined kind of message, 1-64 characters; delivered as msgType. Types starting with 'herald.' are Herald's own: clients publish herald.edit {ref, data}, herald.delete {ref}, herald.react and herald.unreact {ref, key} (docs/protocol.md, 'Edits, deletes, reactions and threads').")]
    [StringLength(64, MinimumLength = 1)]
    public string? Type { get; init; }
}

/// <summary>The signal body.</summary>
[Description("A signal: a name and optional data, delivered to the channel's current subscribers and never stored. Other members are refused.")]
public sealed class SignalBody
{
    [Description("What the signal is, 1-64 characters (application-defined: 'reaction', 'cursor', ...).")]
    [StringLength(64, MinimumLength = 1)]
    public required string Name { get; init; }

    [Description("Any JSON value up to the namespace's MaxSignalBytes (4 KiB); null when absent.")]
    public JsonElement? Data { get; init; }
}

/// <summary>The typing body.</summary>
[Description("Whether the user is typing: true starts or refreshes (resend every 'resend' ms), false stops. Other members are refused.")]
public sealed class TypingBody
{
    public required bool Typing { get; init; }
}

/// <summary>One publication, the same object on every transport.</summary>
[Description("A publication: the same object in history, poll answers and every push transport.")]
public sealed class Publication
{
    [Description("Always 'publication'.")]
    public required string Type { get; init; }

    public required string Channel { get; init; }

    [Description("Position in the channel's log, contiguous from 1.")]
    public required long Offset { get; init; }

    [Description("The log generation the offset belongs to.")]
    public required string Epoch { get; init; }

    [Description("Server-assigned unique id (UUIDv7 as 32 hex digits).")]
    public required string Id { get; init; }

    [Description("When the server appended it (UTC).")]
    public required DateTime Time { get; init; }

    [Description("The publishing user; absent for server API keys.")]
    public string? From { get; init; }

    [Description("The publisher's optional type.")]
    public string? MsgType { get; init; }

    [Description("Set by the server: where the publication came from (an inbound webhook's source and delivery id).")]
    public JsonElement? Meta { get; init; }

    [Description("The message, as published; with view=latest its newest data (an edit's), null when deleted.")]
    public required JsonElement Data { get; init; }

    [Description("view=latest: 1 plus the number of edits.")]
    public int? Version { get; init; }

    [Description("view=latest: when the newest edit was appended; absent when never edited.")]
    public DateTime? EditedAt { get; init; }

    [Description("view=latest: true when a herald.delete tombstoned the message (data is null).")]
    public bool? Deleted { get; init; }

    [Description("view=latest: the reaction keys with a count, in the order they first got one.")]
    public IReadOnlyList<Reaction>? Reactions { get; init; }

    [Description("view=latest: the newest summary of the message's thread ({channel}={offset}).")]
    public ThreadSummary? Thread { get; init; }
}

/// <summary>One reaction key of a message in view=latest.</summary>
public sealed class Reaction
{
    public required string Key { get; init; }

    [Description("How many reactions count, under the namespace's Reactions policy.")]
    public required int Count { get; init; }

    [Description("The first users who reacted with the key, at most the namespace's ReactionUsersListed (20).")]
    public required IReadOnlyList<string> Users { get; init; }
}

/// <summary>A thread's summary, as its parent's herald.thread publications carry it.</summary>
public sealed class ThreadSummary
{
    [Description("The thread's newest offset.")]
    public required long Replies { get; init; }

    [Description("The newest message of the thread.")]
    public required ThreadLast Last { get; init; }
}

/// <summary>The newest message of a thread.</summary>
public sealed class ThreadLast
{
    public required long Offset { get; init; }

    public required DateTime Time { get; init; }

    [Description("Its author; absent for server publishes.")]
    public string? From { get; init; }
}

/// <summary>The answer of a history read.</summary>
[Description("A window of a channel's log, with the log's state.")]
public sealed class HistoryResponse
{
    public required string Channel { get; init; }

    [Description("The channel's epoch; empty for a channel never written.")]
    public required string Epoch { get; init; }

    [Description("The newest offset (0 for a channel never written).")]
    public required long Top { get; init; }

    [Description("The oldest offset still retained (top + 1 when none is).")]
    public required long First { get; init; }

    public required IReadOnlyList<Publication> Publications { get; init; }
}

/// <summary>One channel of a poll answer.</summary>
public sealed class PollChannel
{
    [Description("true: the position came with was resumed, nothing is skipped; false: reset (history lost), reload the channel.")]
    public required bool Recovered { get; init; }

    public required string Epoch { get; init; }

    [Description("The channel's position in the answer's cursor.")]
    public required long Offset { get; init; }
}

/// <summary>The answer of a long or short poll.</summary>
[Description("What is pending after the cursor, and the next cursor.")]
public sealed class PollResponse
{
    [Description("Send it with the next poll.")]
    public required string Cursor { get; init; }

    [Description("One entry per requested channel.")]
    public required IReadOnlyDictionary<string, PollChannel> Channels { get; init; }

    public required IReadOnlyList<Publication> Publications { get; init; }

    [Description("true: the answer was cut at MaxPollMessages; poll again at once.")]
    public required bool More { get; init; }
}
