using System.Text;

namespace Herald.Client.Internal;

/// <summary>What the server said when a subscription went live on a connection.</summary>
internal readonly record struct SubscribeReply(bool Recovered, string Epoch, long Offset, TypingTimings? Typing = null);

internal enum ConfirmOutcome
{
    /// <summary>Resumed from the tracked position: everything after it follows.</summary>
    Recovered,

    /// <summary>No position was tracked: live from the reply's position.</summary>
    Live,

    /// <summary>The tracked position was not resumable: continue after the reply's position.</summary>
    Reset,
}

internal enum AcceptOutcome
{
    /// <summary>The next publication: deliver it.</summary>
    Deliver,

    /// <summary>Already delivered (a replay overlapping what a previous connection delivered): drop it.</summary>
    Duplicate,

    /// <summary>Not the next one: the connection cannot be trusted; reconnect from the tracked position.</summary>
    Gap,
}

/// <summary>
/// One channel's position as the application has seen it, and the rules that keep delivery exactly
/// once and in order whatever the transport (the TypeScript SDK's position.ts): a publication is
/// delivered only when it is the one right after the position, and the position moves only by
/// delivering or by the server's reply to a subscribe. Not thread-safe: the subscription locks.
/// </summary>
internal sealed class ChannelTracker(Position? since)
{
    public Position? Position { get; private set; } = since;

    public (ConfirmOutcome Outcome, Position? Previous) Confirm(SubscribeReply reply)
    {
        var previous = Position;
        if (!reply.Recovered)
        {
            Position = new Position(reply.Epoch, reply.Offset);
            return (ConfirmOutcome.Reset, previous);
        }

        if (previous is null)
        {
            Position = new Position(reply.Epoch, reply.Offset);
            return (ConfirmOutcome.Live, previous);
        }

        // Recovered from our position: the replay that follows moves it. Taking the reply's offset
        // instead would drop the replay (on WebSocket it is the channel's top, not our position).
        return (ConfirmOutcome.Recovered, previous);
    }

    /// <summary>Decides about a publication; when delivered, the position moves to it and <paramref name="epochString"/> is the epoch's string.</summary>
    public AcceptOutcome Accept(long offset, ReadOnlySpan<byte> epoch, out string epochString)
    {
        var at = Position;
        if (at is null)
        {
            // Before any reply (only from a misbehaving server): take it as the start.
            epochString = Encoding.ASCII.GetString(epoch);
            Position = new Position(epochString, offset);
            return AcceptOutcome.Deliver;
        }

        var current = at.Value;
        if (Ascii.EqualsString(epoch, current.Epoch))
        {
            epochString = current.Epoch;
            if (offset <= current.Offset)
                return AcceptOutcome.Duplicate;
            if (offset != current.Offset + 1)
                return AcceptOutcome.Gap;
        }
        else if (current.Offset != 0 || offset != 1)
        {
            // Offset 0 is "before the first publication" of whatever epoch comes; any other change
            // of epoch is announced by a reset, never by a publication.
            epochString = string.Empty;
            return AcceptOutcome.Gap;
        }
        else
        {
            epochString = Encoding.ASCII.GetString(epoch);
        }

        Position = new Position(epochString, offset);
        return AcceptOutcome.Deliver;
    }
}

internal static class Ascii
{
    /// <summary>Whether UTF-8 bytes spell the string (epochs and channels are ASCII by the protocol).</summary>
    public static bool EqualsString(ReadOnlySpan<byte> bytes, string text)
    {
        if (bytes.Length != text.Length)
            return false;
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] != text[i])
                return false;
        }

        return true;
    }
}

/// <summary>Hex formatting without the newer BCL helpers (netstandard2.1 has none).</summary>
internal static class Hex
{
    private const string Digits = "0123456789abcdef";

    public static string Format(ulong high, ulong low)
    {
#if NETSTANDARD2_1
        var chars = new char[32];
        Write(chars, high, low);
        return new string(chars);
#else
        return string.Create(32, (high, low), static (span, v) => Write(span, v.high, v.low));
#endif
    }

    public static string Format(ReadOnlySpan<byte> bytes)
    {
        var chars = new char[bytes.Length * 2];
        for (var i = 0; i < bytes.Length; i++)
        {
            chars[2 * i] = Digits[bytes[i] >> 4];
            chars[(2 * i) + 1] = Digits[bytes[i] & 0xf];
        }

        return new string(chars);
    }

    /// <summary>Parses 32 lowercase hex digits (the server's ids) into two halves; anything else is kept as a string.</summary>
    public static bool TryParse128(ReadOnlySpan<byte> text, out ulong high, out ulong low)
    {
        high = low = 0;
        if (text.Length != 32)
            return false;
        for (var i = 0; i < 32; i++)
        {
            var c = text[i];
            int v = c switch
            {
                >= (byte)'0' and <= (byte)'9' => c - '0',
                >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
                _ => -1,
            };
            if (v < 0)
                return false;
            if (i < 16)
                high = (high << 4) | (uint)v;
            else
                low = (low << 4) | (uint)v;
        }

        return true;
    }

    private static void Write(Span<char> span, ulong high, ulong low)
    {
        for (var i = 15; i >= 0; i--)
        {
            span[i] = Digits[(int)(high & 0xf)];
            high >>= 4;
            span[16 + i] = Digits[(int)(low & 0xf)];
            low >>= 4;
        }
    }
}
