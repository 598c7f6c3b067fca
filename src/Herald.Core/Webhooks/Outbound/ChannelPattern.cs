using System.Diagnostics.CodeAnalysis;
using Herald.Channels;

namespace Herald.Webhooks.Outbound;

/// <summary>
/// Which channels a webhook subscription receives: a channel name (<c>orders:eu</c>), a namespace
/// (<c>orders:*</c>), a name prefix within a namespace (<c>orders:eu-*</c>), or every channel (<c>*</c>).
/// A <c>*</c> is allowed only as the last character; the namespace is always literal.
/// </summary>
internal readonly record struct ChannelPattern(string Text, string? Namespace, string Prefix, bool IsExact)
{
    public bool IsAll => Namespace is null;

    public static bool TryParse(string? text, out ChannelPattern pattern, [NotNullWhen(false)] out string? error)
    {
        pattern = default;
        if (string.IsNullOrEmpty(text))
        {
            error = "A channel pattern is empty.";
            return false;
        }

        if (text == "*")
        {
            pattern = new ChannelPattern(text, null, string.Empty, IsExact: false);
            error = null;
            return true;
        }

        var star = text.IndexOf('*', StringComparison.Ordinal);
        if (star < 0)
        {
            if (!ChannelName.TryValidate(text, out var nameError))
            {
                error = $"'{text}' is not a channel name: {nameError}";
                return false;
            }

            pattern = new ChannelPattern(text, ChannelName.NamespaceOf(text), text[(text.IndexOf(':', StringComparison.Ordinal) + 1)..], IsExact: true);
            error = null;
            return true;
        }

        var colon = text.IndexOf(':', StringComparison.Ordinal);
        if (star != text.Length - 1 || colon < 0 || star < colon)
        {
            error = $"'{text}': a pattern is a channel name, 'namespace:*', 'namespace:prefix*' or '*' (one '*', last, after a literal namespace).";
            return false;
        }

        // "ns:prefix*" is valid exactly when "ns:prefix" plus any allowed character is a valid channel name.
        var prefix = text[(colon + 1)..star];
        if (!ChannelName.TryValidate(text[..star] + "x", out var prefixError))
        {
            error = $"'{text}' is not a valid pattern: {prefixError}";
            return false;
        }

        pattern = new ChannelPattern(text, text[..colon], prefix, IsExact: false);
        error = null;
        return true;
    }

    public bool Matches(string channel)
    {
        if (Namespace is null)
            return true;
        var colon = channel.IndexOf(':', StringComparison.Ordinal);
        if (colon != Namespace.Length || !channel.AsSpan(0, colon).SequenceEqual(Namespace))
            return false;
        var name = channel.AsSpan(colon + 1);
        return IsExact ? name.SequenceEqual(Prefix) : name.StartsWith(Prefix, StringComparison.Ordinal);
    }
}

/// <summary>
/// The enabled subscriptions to one event type (publications unless told), indexed for the append
/// path: one dictionary lookup per exact channel, one per namespace for the wildcard patterns.
/// Immutable; replaced whole when a subscription changes.
/// </summary>
internal sealed class SubscriptionIndex
{
    private readonly Dictionary<string, WebhookSubscription[]> exact = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ChannelPattern Pattern, WebhookSubscription Subscription)[]> byNamespace = new(StringComparer.Ordinal);
    private readonly WebhookSubscription[] all;

    /// <param name="type">Only subscriptions whose <see cref="WebhookSubscription.Events"/> hold this type are indexed.</param>
    public SubscriptionIndex(IEnumerable<WebhookSubscription> subscriptions, string type = WebhookEventTypes.Publication)
    {
        var exactLists = new Dictionary<string, List<WebhookSubscription>>(StringComparer.Ordinal);
        var namespaceLists = new Dictionary<string, List<(ChannelPattern, WebhookSubscription)>>(StringComparer.Ordinal);
        var allList = new List<WebhookSubscription>();
        foreach (var subscription in subscriptions)
        {
            if (!subscription.Enabled || !subscription.Receives(type))
                continue;
            foreach (var text in subscription.Channels)
            {
                if (!ChannelPattern.TryParse(text, out var pattern, out _))
                    continue;
                if (pattern.IsAll)
                    allList.Add(subscription);
                else if (pattern.IsExact)
                    Add(exactLists, text, subscription);
                else
                    Add(namespaceLists, pattern.Namespace!, (pattern, subscription));
            }
        }

        foreach (var (key, list) in exactLists)
            exact[key] = [.. list];
        foreach (var (key, list) in namespaceLists)
            byNamespace[key] = [.. list];
        all = [.. allList];
        Count = exact.Count + byNamespace.Count + all.Length;
    }

    public static SubscriptionIndex Empty { get; } = new([]);

    /// <summary>Zero when nothing can match: the append path then costs one comparison.</summary>
    public int Count { get; }

    /// <summary>Whether any subscription matches <paramref name="channel"/>.</summary>
    public bool Matches(string channel)
    {
        if (Count == 0)
            return false;
        if (all.Length > 0 || exact.ContainsKey(channel))
            return true;
        var colon = channel.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && byNamespace.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(channel.AsSpan(0, colon), out var patterns))
        {
            foreach (var (pattern, _) in patterns)
            {
                if (pattern.Matches(channel))
                    return true;
            }
        }

        return false;
    }

    /// <summary>Adds every subscription matching <paramref name="channel"/> to <paramref name="into"/>, each once.</summary>
    public void Match(string channel, List<WebhookSubscription> into)
    {
        if (Count == 0)
            return;
        foreach (var subscription in all)
            AddOnce(into, subscription);
        if (exact.TryGetValue(channel, out var subscriptions))
        {
            foreach (var subscription in subscriptions)
                AddOnce(into, subscription);
        }

        var colon = channel.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0 && byNamespace.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(channel.AsSpan(0, colon), out var patterns))
        {
            foreach (var (pattern, subscription) in patterns)
            {
                if (pattern.Matches(channel))
                    AddOnce(into, subscription);
            }
        }
    }

    private static void AddOnce(List<WebhookSubscription> into, WebhookSubscription subscription)
    {
        // A subscription whose patterns overlap still gets one delivery; lists are a handful long.
        foreach (var existing in into)
        {
            if (ReferenceEquals(existing, subscription))
                return;
        }

        into.Add(subscription);
    }

    private static void Add<T>(Dictionary<string, List<T>> lists, string key, T item)
    {
        if (!lists.TryGetValue(key, out var list))
            lists[key] = list = [];
        list.Add(item);
    }
}
