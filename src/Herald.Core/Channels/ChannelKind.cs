namespace Herald.Channels;

/// <summary>What a namespace's channels are, which decides who may use them (docs/protocol.md, "Channel kinds").</summary>
public enum ChannelKind
{
    /// <summary>Ordinary channels: the namespace's <c>Subscribe</c> and <c>Publish</c> access levels decide.</summary>
    Public,

    /// <summary>
    /// <c>me:&lt;sub&gt;</c>: one user's own channel. Only that user's sessions (and server API keys)
    /// subscribe or read it; only server API keys publish. The default kind of the namespace <c>me</c>.
    /// </summary>
    Personal,

    /// <summary>
    /// <c>dm:alice~bob</c>: the sorted, de-duplicated member list joined by <c>~</c> is the name; only
    /// members (and server API keys) subscribe or publish. The default kind of the namespace <c>dm</c>.
    /// </summary>
    Direct,
}

/// <summary>What a caller wants to do on a channel; a token's <c>channels</c> claim grants them by name.</summary>
public enum ChannelOperation
{
    /// <summary>Subscribe on any transport, poll, or read history.</summary>
    Subscribe,

    /// <summary>Append a publication.</summary>
    Publish,

    /// <summary>Be present and see presence (reserved for the presence facet; granted like the others).</summary>
    Presence,
}
