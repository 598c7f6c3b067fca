namespace Herald.Client;

/// <summary>
/// A position in a channel's log: the offset of a publication and the epoch (log generation) it
/// belongs to. <c>new Position("", 0)</c> means "from the beginning" of whatever epoch the channel has.
/// </summary>
/// <param name="Epoch">The log generation (8 characters; empty for a channel never written).</param>
/// <param name="Offset">The offset, 1 for the first publication; 0 before any.</param>
public readonly record struct Position(string Epoch, long Offset)
{
    /// <summary>The start of a channel: everything it still retains follows.</summary>
    public static Position Start => new(string.Empty, 0);

    /// <inheritdoc />
    public override string ToString() => $"{Epoch}:{Offset}";
}
