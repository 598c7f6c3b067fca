using System.Buffers;
using System.Text;
using Herald.Channels;
using Herald.Engine;
using Herald.Transports.Push;

namespace Herald.Fuzz.Targets;

/// <summary>
/// <c>?cursor=</c>: the first line lists the requested channels (comma-separated; the invalid ones
/// are dropped, as the request refuses them before the cursor), the rest is the token.
/// </summary>
internal sealed class CursorTarget : IFuzzTarget
{
    public string Name => "cursor";

    public string Description => "Cursor.TryDecode(?cursor=, channels); a decoded cursor re-encodes (both encoders) to one that decodes to the same positions";

    public void Run(ReadOnlySpan<byte> input)
    {
        var line = Check.FirstLine(input, Encoding.UTF8, out var rest);
        var channels = line.Split(',').Where(ChannelName.IsValid).Distinct(StringComparer.Ordinal).ToList();
        if (channels.Count == 0)
            channels = [.. CursorChecks.DefaultChannels];
        CursorChecks.DecodeAndRoundTrip(Encoding.UTF8.GetString(rest), channels);
    }
}

/// <summary>
/// <c>Last-Event-ID</c>: the whole input is the header's value (Kestrel hands headers on as
/// Latin-1/UTF-8 text), for three channels; what decodes seeds the push transports' cursor tracker,
/// whose <c>id:</c> line must decode back to the same positions, and after a publication to the new one.
/// </summary>
internal sealed class LastEventIdTarget : IFuzzTarget
{
    public string Name => "last-event-id";

    public string Description => "Last-Event-ID header -> Cursor.TryDecode -> CursorTracker id: line; what the tracker writes decodes to what it was given";

    public void Run(ReadOnlySpan<byte> input)
    {
        var channels = CursorChecks.DefaultChannels;
        var positions = CursorChecks.DecodeAndRoundTrip(Encoding.Latin1.GetString(input), channels);
        if (positions is null)
            return;

        var tracker = new CursorTracker(channels, positions);
        var advanced = new Dictionary<string, Position>(positions, StringComparer.Ordinal);
        foreach (var (channel, next) in new[] { (channels[1], 7L), (channels[0], long.MaxValue) })
        {
            var epoch = positions.TryGetValue(channel, out var known) ? known.Epoch : "e1";
            var offset = known.Offset == long.MaxValue ? next : Math.Max(known.Offset + 1, next);
            tracker.Advance(new Publication { Channel = channel, Offset = offset, Epoch = epoch, Id = "0", Time = DateTimeOffset.UnixEpoch, Data = "1"u8.ToArray() });
            advanced[channel] = new Position(epoch, offset);

            var written = new ArrayBufferWriter<byte>();
            tracker.WriteTo(written);
            Check.That(Cursor.TryDecode(Encoding.ASCII.GetString(written.WrittenSpan), channels, out var again, out var error),
                $"The tracker's id: line does not decode: {error}");
            CursorChecks.SameDictionary(advanced, again, "the tracker's id: line");
        }
    }
}

internal static class CursorChecks
{
    public static readonly string[] DefaultChannels = ["chat:lobby", "user:alice@example.com", "news:a.b-c_d=e~f"];

    /// <summary>Decodes <paramref name="token"/>; when accepted, checks and re-encodes the positions.</summary>
    public static Dictionary<string, Position>? DecodeAndRoundTrip(string token, IReadOnlyList<string> channels)
    {
        if (!Cursor.TryDecode(token, channels, out var positions, out var error))
        {
            Check.That(error.Length > 0, "A refused cursor has a message.");
            return null;
        }

        foreach (var (channel, position) in positions)
        {
            Check.That(channels.Contains(channel), $"The cursor decoded a position for '{channel}', which was not requested.");
            Check.That(position.Offset >= 0, $"Negative offset {position.Offset} decoded.");
            Check.That(position.Epoch.Length <= 255 && position.Epoch.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'),
                $"Epoch '{position.Epoch}' is not one Herald writes.");
        }

        // Two requested channels of one FNV-1a hash cannot be told apart by a cursor (1 in ~2 million for 64 channels): not checked.
        if (channels.Select(Cursor.Hash).Distinct().Count() != channels.Count)
            return positions;

        var ordered = channels.Where(positions.ContainsKey).Select(c => new KeyValuePair<string, Position>(c, positions[c])).ToArray();
        var encoded = Cursor.Encode(ordered);
        var written = new ArrayBufferWriter<byte>();
        Cursor.EncodeToUtf8(ordered, written);
        Check.That(Encoding.ASCII.GetString(written.WrittenSpan) == encoded, "Cursor.EncodeToUtf8 and Cursor.Encode disagree.");
        Check.That(encoded.Length <= Cursor.MaxLength || ordered.Length > 64, $"A re-encoded cursor is {encoded.Length} characters.");
        if (ordered.Length > 0 || encoded.Length > 0)
        {
            Check.That(Cursor.TryDecode(encoded, channels, out var again, out var againError), $"A re-encoded cursor does not decode: {againError}");
            SameDictionary(positions, again, "the re-encoded cursor");
        }

        return positions;
    }

    public static void SameDictionary(IReadOnlyDictionary<string, Position> expected, IReadOnlyDictionary<string, Position> actual, string what)
    {
        Check.That(expected.Count == actual.Count, $"{what} holds {actual.Count} positions, not {expected.Count}.");
        foreach (var (channel, position) in expected)
        {
            Check.That(actual.TryGetValue(channel, out var other) && other == position,
                $"{what} gives {channel} {(actual.TryGetValue(channel, out var o) ? o.ToString() : "nothing")}, not {position}.");
        }
    }
}
