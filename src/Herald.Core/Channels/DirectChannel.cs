using System.Buffers.Text;
using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;
using System.Text;

namespace Herald.Channels;

/// <summary>
/// Names of direct channels: one canonical name for a set of users. The name part is the members'
/// ids, sorted (ordinal), de-duplicated and joined by <c>~</c> (<c>dm:alice~bob</c>). Ids that cannot
/// appear in a channel name (a <c>~</c>, a character outside the name alphabet, too long together)
/// get a hashed name, <c>dm:=</c> followed by 43 URL-safe characters, which only
/// <c>POST /v1/direct</c> hands out; who may use a hashed channel is granted by the token's
/// <c>channels</c> claim, since its name does not list its members.
/// </summary>
public static class DirectChannel
{
    /// <summary>The first character of a hashed name part; never the start of a member list.</summary>
    public const char HashedMarker = '=';

    /// <summary>The longest member id accepted by <c>POST /v1/direct</c> (a JWT <c>sub</c> is rarely longer than a UUID).</summary>
    public const int MaxMemberIdLength = 256;

    /// <summary>Whether the name part of a direct channel is a hashed one (membership comes from grants).</summary>
    public static bool IsHashed(string channel) => NamePart(channel) is { Length: > 0 } name && name[0] == HashedMarker;

    /// <summary>
    /// Checks that <paramref name="channel"/> (a valid channel name in a direct namespace) is
    /// canonical and has 2 to <paramref name="maxMembers"/> members. When it is not canonical but
    /// names a valid member set, <paramref name="canonical"/> is the name to use instead.
    /// </summary>
    public static bool TryCheck(string channel, int maxMembers, out string[] members, out string? canonical, [NotNullWhen(false)] out string? error)
    {
        members = [];
        canonical = null;
        var name = NamePart(channel);
        if (name.Length > 0 && name[0] == HashedMarker)
        {
            error = null;
            return true;
        }

        var parts = name.Split('~');
        if (Array.Exists(parts, p => p.Length == 0))
        {
            error = $"'{channel}' is not a direct channel name: members are joined by single '~' (e.g. '{NamespaceOf(channel)}:alice~bob').";
            return false;
        }

        if (!TryCanonicalize(parts, maxMembers, out var sorted, out error))
            return false;

        var expected = NamespaceOf(channel) + ":" + string.Join('~', sorted);
        if (!string.Equals(expected, channel, StringComparison.Ordinal))
        {
            canonical = expected;
            error = $"'{channel}' is not the canonical name of its members; use '{expected}' (members sorted by their bytes, each once, joined by '~').";
            return false;
        }

        members = sorted;
        error = null;
        return true;
    }

    /// <summary>
    /// The canonical channel of <paramref name="memberIds"/> in namespace <paramref name="ns"/>: the
    /// member list when every id can appear in a name, else a hashed name. Null with an error when
    /// the set is not 2 to <paramref name="maxMembers"/> valid ids.
    /// </summary>
    /// <param name="members">The member set as it is in the name: sorted, each once.</param>
    public static string? ForMembers(string ns, IReadOnlyCollection<string> memberIds, int maxMembers, out string[] members, out bool hashed, out string? error)
    {
        hashed = false;
        members = [];
        foreach (var id in memberIds)
        {
            if (string.IsNullOrEmpty(id) || id.Length > MaxMemberIdLength)
            {
                error = $"Every member id is 1 to {MaxMemberIdLength} characters.";
                return null;
            }
        }

        if (!TryCanonicalize(memberIds, maxMembers, out var sorted, out error))
            return null;
        members = sorted;
        var listed = ns + ":" + string.Join('~', sorted);
        if (sorted.All(id => id[0] != HashedMarker && !id.Contains('~', StringComparison.Ordinal)) && ChannelName.IsValid(listed) && !ThreadChannel.IsThread(listed))
            return listed;

        // Length-prefixed, so no two member sets hash the same text.
        var text = new StringBuilder();
        foreach (var id in sorted)
            text.Append(id.Length).Append(':').Append(id);
        hashed = true;
        return ns + ":" + HashedMarker + Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    /// <summary>The canonical member list: sorted by bytes (ordinal), each once, 2 to <paramref name="maxMembers"/>.</summary>
    private static bool TryCanonicalize(IEnumerable<string> ids, int maxMembers, out string[] sorted, [NotNullWhen(false)] out string? error)
    {
        sorted = ids.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        error = sorted.Length < 2 || sorted.Length > maxMembers
            ? $"A direct channel has 2 to {maxMembers} distinct members; {sorted.Length} were given."
            : null;
        return error is null;
    }

    private static string NamePart(string channel) => channel[(channel.IndexOf(':', StringComparison.Ordinal) + 1)..];

    private static string NamespaceOf(string channel) => channel[..channel.IndexOf(':', StringComparison.Ordinal)];
}
