namespace Herald.Channels;

/// <summary>Whether a namespace's channels keep receipts (<see cref="ChannelPolicy.Receipts"/>).</summary>
public enum ReceiptsMode
{
    /// <summary>No receipts: reads and deliveries are not shown to other members.</summary>
    Off,

    /// <summary>Every member's seen and delivered markers are shown to the channel's subscribers (up to <see cref="ChannelPolicy.ReceiptsMaxMembers"/> members).</summary>
    Members,
}

// Read and delivered receipts (docs/protocol.md, "Receipts").
public sealed partial class ChannelPolicy
{
    /// <summary>
    /// Whether the namespace's channels show who read and received what. Unset: <c>Members</c> for
    /// direct channels ("seen" in a conversation), <c>Off</c> for every other kind.
    /// </summary>
    public ReceiptsMode? Receipts { get; set; }

    /// <summary>Above this many members (users with read state on the channel) a channel shows no receipts: "seen by 4,000" is noise, and a snapshot that size is not cheap. 100.</summary>
    public int ReceiptsMaxMembers { get; set; } = 100;

    /// <summary>A node sends a channel's first receipt change at once, then at most one diff per this interval (every change since, conflated per member). 1 s.</summary>
    public TimeSpan ReceiptsInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The receipts of a channel of <paramref name="kind"/>: <see cref="Receipts"/>, or its default for the kind.</summary>
    public ReceiptsMode ReceiptsFor(ChannelKind kind) => Receipts ?? (kind == ChannelKind.Direct ? ReceiptsMode.Members : ReceiptsMode.Off);

    private IEnumerable<string> ValidateReceipts(string name)
    {
        if (Receipts is { } receipts && !Enum.IsDefined(receipts))
            yield return $"Namespace '{name}': Receipts must be Off or Members.";
        if (ReceiptsMaxMembers is < 1 or > 1000)
            yield return $"Namespace '{name}': ReceiptsMaxMembers must be from 1 to 1000.";
        if (ReceiptsInterval < TimeSpan.Zero || ReceiptsInterval > TimeSpan.FromMinutes(1))
            yield return $"Namespace '{name}': ReceiptsInterval must be from 0 to 1 minute.";
    }
}
