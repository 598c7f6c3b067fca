namespace Herald.Channels;

/// <summary>Who may edit and delete messages (<see cref="ChannelPolicy.Edits"/>).</summary>
public enum EditPolicy
{
    /// <summary>No client edits or deletes; server API keys still may (moderation).</summary>
    Off,

    /// <summary>A user edits and deletes only the messages whose <c>from</c> is that user; server API keys any.</summary>
    Own,

    /// <summary>Whoever may publish on the channel edits and deletes any message.</summary>
    Any,
}

/// <summary>How reactions count (<see cref="ChannelPolicy.Reactions"/>).</summary>
public enum ReactionPolicy
{
    /// <summary>No reactions: none accepted, none shown by <c>view=latest</c>.</summary>
    Off,

    /// <summary>A user counts once per key and message (a repeated react is a no-op).</summary>
    Distinct,

    /// <summary>A user has at most one reaction per message: a react with another key replaces it.</summary>
    Unique,

    /// <summary>Every react counts; an unreact takes one back.</summary>
    Multiple,
}

// Edits, deletes, reactions and threads (docs/protocol.md, "Edits, deletes, reactions and threads").
public sealed partial class ChannelPolicy
{
    /// <summary>Who may publish <c>herald.edit</c> and <c>herald.delete</c>. <c>Own</c> by default: people fix their own typos.</summary>
    public EditPolicy Edits { get; set; } = EditPolicy.Own;

    /// <summary>How <c>herald.react</c> counts. <c>Distinct</c> by default: one 👍 per person, as every chat shows them.</summary>
    public ReactionPolicy Reactions { get; set; } = ReactionPolicy.Distinct;

    /// <summary>Longest reaction key, UTF-8 bytes. 64: an emoji sequence (a family emoji is 25 bytes) or a short custom name.</summary>
    public int MaxReactionKeyBytes { get; set; } = 64;

    /// <summary>Users named per reaction key in <c>view=latest</c> (the earliest first); the rest are only in its count. 20: "alice, bob and 18 others".</summary>
    public int ReactionUsersListed { get; set; } = 20;

    /// <summary>Whether <c>{channel}={offset}</c> channels (threads) may be published to.</summary>
    public bool Threads { get; set; } = true;

    /// <summary>
    /// A node publishes a thread's summary on its parent at once after a reply, then at most once
    /// per this interval (the newest state). 1 s: a busy thread costs its parent one publication a
    /// second, not one per reply.
    /// </summary>
    public TimeSpan ThreadSummaryInterval { get; set; } = TimeSpan.FromSeconds(1);

    private IEnumerable<string> ValidateActions(string name)
    {
        if (!Enum.IsDefined(Edits))
            yield return $"Namespace '{name}': Edits must be Off, Own or Any.";
        if (!Enum.IsDefined(Reactions))
            yield return $"Namespace '{name}': Reactions must be Off, Distinct, Unique or Multiple.";
        if (MaxReactionKeyBytes is < 1 or > 1024)
            yield return $"Namespace '{name}': MaxReactionKeyBytes must be from 1 to 1024.";
        if (ReactionUsersListed is < 0 or > 1000)
            yield return $"Namespace '{name}': ReactionUsersListed must be from 0 to 1000.";
        if (ThreadSummaryInterval < TimeSpan.Zero || ThreadSummaryInterval > TimeSpan.FromMinutes(1))
            yield return $"Namespace '{name}': ThreadSummaryInterval must be from 0 to 1 minute.";
    }
}
