namespace Herald.Transports.Connections;

/// <summary>
/// How many TCP connections this node accepts, in all and per client address; bound from
/// <c>Herald:Connections</c>. Every connection holds a file descriptor, and an ASP.NET Core
/// process that runs out of them cannot accept, open its store or write its log, so the node
/// refuses connections well before the process's <c>nofile</c> limit (docs/security.md).
/// </summary>
public sealed class ConnectionOptions
{
    /// <summary>
    /// Connections open at once on this node; more are refused with <c>503 too_many_connections</c>.
    /// 0 (default): the process's open-file limit (<c>nofile</c>, RLIMIT_NOFILE) minus
    /// <see cref="ReservedFileDescriptors"/>.
    /// </summary>
    public int MaxConnections { get; set; }

    /// <summary>
    /// Connections open at once from one client address (an IPv6 client: its /64); more are refused
    /// with <c>429 too_many_connections</c>. 0 turns the per-address limit off (behind a reverse
    /// proxy every connection comes from the proxy: let the proxy limit per client).
    /// 2,500: above <see cref="TransportOptions.MaxHeldPollsPerIp"/> (2,000), so an address that may
    /// hold that many long polls can still open its push and publish connections, and far above a
    /// browser's 6 per host or an office behind one NAT address.
    /// </summary>
    public int MaxConnectionsPerIp { get; set; } = 2_500;

    /// <summary>
    /// File descriptors kept back from client connections for everything else the process opens:
    /// the store (SQLite: database, WAL and shared-memory files), outbound webhook sockets (256
    /// attempts in flight by default, plus their pooled connections), the log, the runtime's own.
    /// </summary>
    public int ReservedFileDescriptors { get; set; } = 1_024;

    /// <summary>The node-wide limit in force: <see cref="MaxConnections"/>, or derived from <paramref name="nofile"/> when 0.</summary>
    /// <param name="nofile">The process's soft RLIMIT_NOFILE; null where it cannot be read (then 0 means unlimited).</param>
    public int EffectiveMaxConnections(long? nofile) =>
        MaxConnections > 0 ? MaxConnections
        : nofile is { } limit ? (int)Math.Clamp(limit - ReservedFileDescriptors, 0, int.MaxValue)
        : int.MaxValue;

    internal IEnumerable<string> Validate(long? nofile)
    {
        if (MaxConnections < 0)
            yield return "Herald:Connections:MaxConnections must not be negative (0 derives it from the open-file limit).";
        if (MaxConnectionsPerIp < 0)
            yield return "Herald:Connections:MaxConnectionsPerIp must not be negative (0 turns it off).";
        if (ReservedFileDescriptors < 64)
            yield return "Herald:Connections:ReservedFileDescriptors must be at least 64.";
        if (nofile is { } limit && MaxConnections >= 0 && ReservedFileDescriptors >= 64)
        {
            var room = limit - ReservedFileDescriptors;
            if (room < 16)
            {
                yield return $"The process may open only {limit} files (nofile), which leaves no room for connections beside Herald:Connections:ReservedFileDescriptors ({ReservedFileDescriptors}); raise nofile (docs/security.md: LimitNOFILE=1048576, ulimit -n).";
            }
            else if (MaxConnections > room)
            {
                yield return $"Herald:Connections:MaxConnections ({MaxConnections}) must be at most the open-file limit ({limit}, nofile) minus Herald:Connections:ReservedFileDescriptors ({ReservedFileDescriptors}) = {room}: past it the process runs out of file descriptors. Raise nofile (docs/security.md) or lower the setting.";
            }
        }
    }
}
