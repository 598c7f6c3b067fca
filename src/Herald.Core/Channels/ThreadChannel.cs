using System.Diagnostics.CodeAnalysis;

namespace Herald.Channels;

/// <summary>
/// Thread channels: <c>{parent}={rootOffset}</c>, the replies to the message at <c>rootOffset</c>
/// of <c>parent</c> (<c>chat:lobby=57</c>, <c>dm:alice~bob=5</c>). A thread is in its parent's
/// namespace, so it has the parent's policy, and its access is the parent's
/// (<see cref="Auth.ChannelAccess"/>). The offset is written in decimal without leading zeros, so a
/// thread has one name: <c>chat:lobby=057</c> and <c>chat:lobby=0</c> are ordinary channels.
/// </summary>
public static class ThreadChannel
{
    /// <summary>Between the parent's name and the root offset.</summary>
    public const char Separator = '=';

    /// <summary>18 digits: every offset a log can reach fits a <see cref="long"/>.</summary>
    private const int MaxDigits = 18;

    /// <summary>
    /// Whether <paramref name="channel"/> (a valid channel name) names a thread; then its
    /// <paramref name="parent"/> (itself a valid name) and the <paramref name="root"/> offset.
    /// </summary>
    public static bool TryParse(string channel, [NotNullWhen(true)] out string? parent, out long root)
    {
        ArgumentNullException.ThrowIfNull(channel);
        parent = null;
        root = 0;
        var separator = channel.LastIndexOf(Separator);
        var colon = channel.IndexOf(':', StringComparison.Ordinal);

        // The parent keeps a non-empty name: 'dm:=<hash>' (a hashed direct channel) is no thread.
        if (separator <= colon + 1 || separator == channel.Length - 1)
            return false;
        var digits = channel.AsSpan(separator + 1);
        if (digits.Length > MaxDigits || digits[0] == '0')
            return false;
        foreach (var c in digits)
        {
            if (!char.IsAsciiDigit(c))
                return false;
        }

        root = long.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        parent = channel[..separator];
        return true;
    }

    /// <summary>Whether <paramref name="channel"/> names a thread.</summary>
    public static bool IsThread(string channel) => TryParse(channel, out _, out _);

    /// <summary>The thread of the message at <paramref name="root"/> in <paramref name="parent"/>.</summary>
    public static string Name(string parent, long root) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{parent}{Separator}{root}");
}
