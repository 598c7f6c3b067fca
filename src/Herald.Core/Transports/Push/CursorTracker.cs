using System.Buffers;
using Herald.Channels;
using Herald.Engine;

namespace Herald.Transports.Push;

/// <summary>
/// One push connection's position in each of its channels, written as a <see cref="Cursor"/> in
/// front of every publication it sends. Used only by the session's writer loop, so it needs no lock.
/// </summary>
/// <remarks>
/// A channel is in the cursor once its position is known: from the request's cursor at the start,
/// otherwise from its subscribe reply. Updating a position is one array store (the epoch string is
/// the publication's own), and the token is encoded straight into the response pipe, so a
/// publication costs no allocation here.
/// </remarks>
internal sealed class CursorTracker
{
    private readonly KeyValuePair<string, Position>[] _entries;
    private readonly Dictionary<string, int> _index;
    private int _count;

    public CursorTracker(IReadOnlyList<string> channels, IReadOnlyDictionary<string, Position> initial)
    {
        ArgumentNullException.ThrowIfNull(channels);
        ArgumentNullException.ThrowIfNull(initial);
        _entries = new KeyValuePair<string, Position>[channels.Count];
        _index = new Dictionary<string, int>(channels.Count, StringComparer.Ordinal);
        foreach (var channel in channels)
        {
            if (initial.TryGetValue(channel, out var position))
                Set(channel, position);
        }
    }

    /// <summary>Channels whose position is known (and therefore in the cursor).</summary>
    public int Count => _count;

    /// <summary>Records <paramref name="position"/> as the last one sent on <paramref name="channel"/>.</summary>
    public void Set(string channel, Position position)
    {
        if (!_index.TryGetValue(channel, out var i))
        {
            if (_count == _entries.Length)
                throw new InvalidOperationException($"'{channel}' is not one of this connection's channels.");
            i = _count++;
            _index.Add(channel, i);
        }

        _entries[i] = new KeyValuePair<string, Position>(channel, position);
    }

    /// <summary>Drops <paramref name="channel"/> from the cursor (the server unsubscribed the connection from it).</summary>
    public void Remove(string channel)
    {
        if (!_index.Remove(channel, out var i))
            return;
        var last = --_count;
        if (i != last)
        {
            _entries[i] = _entries[last];
            _index[_entries[i].Key] = i;
        }

        _entries[last] = default;
    }

    /// <summary>Advances to <paramref name="publication"/>, which the caller is about to send.</summary>
    public void Advance(Publication publication) => Set(publication.Channel, new Position(publication.Epoch, publication.Offset));

    /// <summary>Writes the current cursor token (ASCII) to <paramref name="output"/>.</summary>
    public void WriteTo(IBufferWriter<byte> output) => Cursor.EncodeToUtf8(_entries.AsSpan(0, _count), output);

    /// <summary>The current cursor token as a string (tests and logs).</summary>
    public override string ToString() => Cursor.Encode(_entries[.._count]);
}
