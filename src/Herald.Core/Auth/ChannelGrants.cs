using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using Herald.Channels;

namespace Herald.Auth;

/// <summary>
/// The operations a user token grants per channel pattern, from its <c>channels</c> claim:
/// <c>{"chat:team-42": ["subscribe", "publish", "presence"], "news:*": ["subscribe"]}</c>. A pattern
/// is a channel name, or a prefix ending in <c>*</c>. A grant allows what the namespace's access
/// levels alone would refuse; it never overrides a direct channel's canonical name.
/// </summary>
public sealed class ChannelGrants
{
    private readonly (string Pattern, bool Prefix, Operations Operations)[] _grants;

    private ChannelGrants((string, bool, Operations)[] grants) => _grants = grants;

    [Flags]
    private enum Operations
    {
        None = 0,
        Subscribe = 1,
        Publish = 2,
        Presence = 4,
    }

    public int Count => _grants.Length;

    /// <summary>Whether a pattern matching <paramref name="channel"/> grants <paramref name="operation"/>.</summary>
    public bool Allows(string channel, ChannelOperation operation)
    {
        var wanted = operation switch
        {
            ChannelOperation.Subscribe => Operations.Subscribe,
            ChannelOperation.Publish => Operations.Publish,
            _ => Operations.Presence,
        };
        foreach (var (pattern, prefix, operations) in _grants)
        {
            if ((operations & wanted) == 0)
                continue;
            if (prefix ? channel.StartsWith(pattern, StringComparison.Ordinal) : string.Equals(channel, pattern, StringComparison.Ordinal))
                return true;
        }

        return false;
    }

    /// <summary>
    /// Reads the top-level <c>channels</c> claim of a JWT payload (its JSON). No claim: true with
    /// null grants. A claim that is not an object of arrays of known operations, holds more than
    /// <paramref name="maxPatterns"/> patterns or a pattern that is no channel name: false, and the
    /// token is refused with <paramref name="error"/>.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> payload, int maxPatterns, out ChannelGrants? grants, [NotNullWhen(false)] out string? error)
    {
        grants = null;
        error = null;
        var reader = new Utf8JsonReader(payload);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                return true;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isChannels = reader.ValueTextEquals("channels"u8);
                reader.Read();
                if (!isChannels)
                {
                    reader.Skip();
                    continue;
                }

                return TryReadClaim(ref reader, maxPatterns, out grants, out error);
            }
        }
        catch (JsonException)
        {
            // The handler verified the payload's JSON already; nothing to add.
        }

        return true;
    }

    private static bool TryReadClaim(ref Utf8JsonReader reader, int maxPatterns, out ChannelGrants? grants, [NotNullWhen(false)] out string? error)
    {
        grants = null;
        const string Shape = "The token's 'channels' claim must be an object of channel patterns to arrays of operations (\"subscribe\", \"publish\", \"presence\").";
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            error = Shape;
            return false;
        }

        var list = new List<(string, bool, Operations)>();
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var pattern = reader.GetString()!;
            if (list.Count == maxPatterns)
            {
                error = $"The token's 'channels' claim names more than {maxPatterns} patterns (Herald:Auth:MaxChannelGrants).";
                return false;
            }

            var prefix = pattern.EndsWith('*');
            var name = prefix ? pattern[..^1] : pattern;
            if (prefix ? !IsValidPrefix(name) : !ChannelName.IsValid(name))
            {
                error = $"The token's 'channels' claim holds '{pattern}', which is neither a channel name nor a 'namespace:prefix*' pattern.";
                return false;
            }

            reader.Read();
            if (reader.TokenType != JsonTokenType.StartArray)
            {
                error = Shape;
                return false;
            }

            var operations = Operations.None;
            while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            {
                operations |= reader.TokenType != JsonTokenType.String ? Operations.None
                    : reader.ValueTextEquals("subscribe"u8) ? Operations.Subscribe
                    : reader.ValueTextEquals("publish"u8) ? Operations.Publish
                    : reader.ValueTextEquals("presence"u8) ? Operations.Presence
                    : Operations.None;
                if (reader.TokenType != JsonTokenType.String || (operations == Operations.None && !reader.ValueTextEquals(""u8)))
                {
                    error = Shape;
                    return false;
                }
            }

            list.Add((name, prefix, operations));
        }

        grants = new ChannelGrants([.. list]);
        error = null;
        return true;
    }

    /// <summary>A pattern prefix names at least its namespace (<c>chat:</c>), so no grant spans every namespace.</summary>
    private static bool IsValidPrefix(string prefix)
    {
        var colon = prefix.IndexOf(':', StringComparison.Ordinal);
        return colon > 0 && ChannelName.IsValid(colon == prefix.Length - 1 ? prefix + "x" : prefix);
    }
}
