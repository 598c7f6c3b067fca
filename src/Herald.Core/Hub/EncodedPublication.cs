using Herald.Engine;

namespace Herald.Hub;

/// <summary>
/// A publication together with its encodings, made lazily, once per <see cref="WireFormat"/>, and
/// shared by every recipient: a fan-out to N sessions costs one encoding per format in use, not N.
/// </summary>
public sealed class EncodedPublication
{
    // One slot per WireFormat value; filled at most once (a lost race discards the loser's bytes,
    // so every reader still sees the same array).
    private byte[]? _json;
    private byte[]? _sse;
    private byte[]? _ndjson;

    public EncodedPublication(Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        Publication = publication;
    }

    public Publication Publication { get; }

    /// <summary>The publication's bytes in <paramref name="format"/>, encoded on first use.</summary>
    public ReadOnlyMemory<byte> GetBytes(WireFormat format) => format switch
    {
        WireFormat.Json => _json ?? Encode(ref _json, format),
        WireFormat.Sse => _sse ?? Encode(ref _sse, format),
        WireFormat.Ndjson => _ndjson ?? Encode(ref _ndjson, format),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown wire format."),
    };

    private byte[] Encode(ref byte[]? slot, WireFormat format)
    {
        var bytes = PublicationEncoder.Encode(Publication, format);
        return Interlocked.CompareExchange(ref slot, bytes, null) ?? bytes;
    }
}
