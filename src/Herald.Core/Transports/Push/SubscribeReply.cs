using System.Buffers;
using System.Runtime.InteropServices;
using System.Text.Json;
using Herald.Engine;
using Herald.Hub;

namespace Herald.Transports.Push;

/// <summary>
/// A subscribe reply as it waits in the session's queue: the channel's entry of the
/// <c>subscribed</c> message (<c>"chat:a":{"recovered":true,"epoch":"..","offset":N}</c>) plus the
/// position it stands for. The transport renders the full message only when its writer reaches it,
/// because the message carries the connection's cursor, which is known only at that point in the
/// stream.
/// </summary>
/// <remarks>
/// It travels through <see cref="Session"/> as an ordinary control message: a
/// <see cref="MemoryManager{T}"/> over the entry bytes, which the transport recognizes with
/// <see cref="MemoryMarshal.TryGetMemoryManager{T, TManager}(ReadOnlyMemory{T}, out TManager)"/>.
/// Its length counts toward the session's byte budget like any message. Subscribes are rare, so
/// the allocation does not matter.
/// </remarks>
internal sealed class SubscribeReply : MemoryManager<byte>
{
    private readonly byte[] _entry;

    private SubscribeReply(string channel, Position position, byte[] entry)
    {
        Channel = channel;
        Position = position;
        _entry = entry;
    }

    public string Channel { get; }

    /// <summary>The position delivery continues from: the next publication sent on the channel is after it.</summary>
    public Position Position { get; }

    /// <summary>The JSON member <c>"channel":{...}</c>, without surrounding braces.</summary>
    public ReadOnlySpan<byte> Entry => _entry;

    /// <summary>The reply builder to hand to <see cref="Session.SubscribeAsync(string, Position?, IChannelLog, Func{SubscribeResult, ReadOnlyMemory{byte}}?, CancellationToken)"/>.</summary>
    public static Func<SubscribeResult, ReadOnlyMemory<byte>> For(string channel, Position? since) =>
        result => Create(channel, since, result).Memory;

    public static bool TryGet(ReadOnlyMemory<byte> message, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out SubscribeReply? reply) =>
        MemoryMarshal.TryGetMemoryManager(message, out reply);

    internal static SubscribeReply Create(string channel, Position? since, SubscribeResult result)
    {
        var state = result.State;
        Position position;
        if (!result.Recovered || since is null)
            position = state.Position;
        else if (since.Value.Offset == 0)
            position = new Position(state.Epoch, 0);
        else
            position = since.Value;

        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            // Written as a member of an object the transport opens; Utf8JsonWriter needs a root,
            // so write {..} and strip the braces.
            writer.WriteStartObject();
            writer.WriteStartObject(channel);
            writer.WriteBoolean("recovered"u8, result.Recovered);
            writer.WriteString("epoch"u8, position.Epoch);
            writer.WriteNumber("offset"u8, position.Offset);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        var entry = buffer.WrittenSpan[1..^1].ToArray();
        return new SubscribeReply(channel, position, entry);
    }

    public override Span<byte> GetSpan() => _entry;

    public override MemoryHandle Pin(int elementIndex = 0) => throw new NotSupportedException();

    public override void Unpin()
    {
    }

    protected override void Dispose(bool disposing)
    {
    }
}
