namespace Herald.Client.Internal;

/// <summary>The naming rule of docs/protocol.md, checked before anything is sent.</summary>
internal static class ChannelNames
{
    public static void Check(string channel)
    {
        if (!IsValid(channel))
        {
            throw new HeraldException(
                "invalid_channel",
                $"'{channel}' is not a channel name: 'namespace:name', namespace of a-z 0-9 _ - (1-32), name of A-Z a-z 0-9 _ - . = @ ~, at most 128 in all.");
        }
    }

    public static bool IsValid(string? channel)
    {
        if (channel is null || channel.Length > 128)
            return false;
        var colon = channel.IndexOf(':');
        if (colon < 1 || colon > 32 || colon == channel.Length - 1)
            return false;
        for (var i = 0; i < channel.Length; i++)
        {
            var c = channel[i];
            var ok = i < colon
                ? c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-'
                : i == colon || c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '-' or '.' or '=' or '@' or '~';
            if (!ok)
                return false;
        }

        return true;
    }
}
