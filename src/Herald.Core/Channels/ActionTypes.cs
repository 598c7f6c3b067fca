namespace Herald.Channels;

/// <summary>
/// Herald's own publication types (<c>msgType</c>): actions on earlier messages (edits, deletes,
/// reactions), thread summaries, and the read-marker sync on personal channels. Every type starting
/// with <see cref="Prefix"/> is reserved: a client may publish only the ones meant for clients, and
/// none of them counts towards unread (<see cref="ChannelPolicy.UnreadTypes"/>).
/// </summary>
public static class ActionTypes
{
    /// <summary><c>herald.</c>: the reserved prefix.</summary>
    public const string Prefix = "herald.";

    /// <summary>Replaces an earlier message's data: <c>{"ref": offset, "data": any}</c>.</summary>
    public const string Edit = "herald.edit";

    /// <summary>Tombstones an earlier message: <c>{"ref": offset}</c>.</summary>
    public const string Delete = "herald.delete";

    /// <summary>Adds a reaction to an earlier message: <c>{"ref": offset, "key": "👍"}</c>.</summary>
    public const string React = "herald.react";

    /// <summary>Takes a reaction back: <c>{"ref": offset, "key": "👍"}</c>.</summary>
    public const string Unreact = "herald.unreact";

    /// <summary>Server-published on a parent channel: the conflated summary of one of its threads.</summary>
    public const string Thread = "herald.thread";

    /// <summary>Server-published on a user's personal channel: a read marker the user set on another device.</summary>
    public const string Read = "herald.read";

    /// <summary>Whether <paramref name="type"/> is one of Herald's own (reserved) types.</summary>
    public static bool IsReserved(string? type) => type is not null && type.StartsWith(Prefix, StringComparison.Ordinal);
}
