using System.Text.Json;
using Herald.Channels;
using Herald.Engine;

namespace Herald.Publishing;

/// <summary>
/// Folds a channel's publications, in offset order, into its messages as they are now: each
/// message (a publication whose type is not Herald's own) with its edits, delete, reactions and
/// thread summary applied — the <c>view=latest</c> of history. Pure: it reads nothing, so a client
/// that folds the publications it received gets what the server answers for the same offsets.
/// </summary>
/// <remarks>
/// Rules (docs/protocol.md, "Edits, deletes, reactions and threads"): an action about an offset the
/// view does not hold (never seen, not tracked, or an action itself) is ignored; an edit replaces
/// the data and counts a version; a delete clears data and reactions, and later edits and reactions
/// of that message are ignored; reactions count by <see cref="ReactionPolicy"/> (none with
/// <c>Off</c>), and only from a user (<c>from</c>); the <c>herald.thread</c> about a message with
/// the most replies (the newest of equals) is its thread. A publication at or below the newest offset already added is dropped, so a
/// resumed stream that repeats one folds the same.
/// </remarks>
public sealed class LatestView(ReactionPolicy reactions, int usersListed)
{
    private readonly List<LatestMessage> _messages = [];
    private readonly Dictionary<long, LatestMessage> _byOffset = [];

    /// <summary>The most messages held; later ones are passed over (their actions too). Forward history pages with this.</summary>
    public int MaxMessages { get; init; } = int.MaxValue;

    /// <summary>Which offsets' messages to hold; null: every one. Reverse history pages with this.</summary>
    public Func<long, bool>? Track { get; init; }

    /// <summary>The newest offset added; 0 before any.</summary>
    public long LastOffset { get; private set; }

    /// <summary>The messages held, in offset order.</summary>
    public IReadOnlyList<LatestMessage> Messages => _messages;

    /// <summary>A view under <paramref name="policy"/>'s reactions rule and users listed.</summary>
    public static LatestView For(ChannelPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(policy);
        return new LatestView(policy.Reactions, policy.ReactionUsersListed);
    }

    /// <summary>Folds every publication of <paramref name="publications"/> (offset order) and returns the messages.</summary>
    public static IReadOnlyList<LatestMessage> Fold(IEnumerable<Publication> publications, ChannelPolicy policy)
    {
        ArgumentNullException.ThrowIfNull(publications);
        var view = For(policy);
        foreach (var publication in publications)
            view.Add(publication);
        return view.Messages;
    }

    /// <summary>Adds the next publication; false when it was dropped for not being after <see cref="LastOffset"/>.</summary>
    public bool Add(Publication publication)
    {
        ArgumentNullException.ThrowIfNull(publication);
        if (publication.Offset <= LastOffset)
            return false;
        LastOffset = publication.Offset;

        if (!ActionTypes.IsReserved(publication.Type))
        {
            if (_messages.Count < MaxMessages && (Track?.Invoke(publication.Offset) ?? true))
            {
                var message = new LatestMessage(publication, reactions, usersListed);
                _messages.Add(message);
                _byOffset[publication.Offset] = message;
            }

            return true;
        }

        if (ActionData.IsFolded(publication.Type)
            && ActionData.TryParse(publication.Type!, publication.Data, int.MaxValue, out var action, out _)
            && _byOffset.TryGetValue(action.Ref, out var target))
        {
            Apply(target, action, publication);
        }

        return true;
    }

    /// <summary>A summary's <c>replies</c>; 0 when it has none.</summary>
    private static long Replies(ReadOnlyMemory<byte> summary)
    {
        var reader = new Utf8JsonReader(summary.Span);
        while (reader.Read())
        {
            if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName && reader.ValueTextEquals("replies"u8))
                return reader.Read() && reader.TokenType == JsonTokenType.Number && reader.TryGetInt64(out var replies) ? replies : 0;
        }

        return 0;
    }

    private void Apply(LatestMessage target, ActionData action, Publication publication)
    {
        if (action.Type == ActionTypes.Thread)
        {
            // Several nodes summarise one thread, each what it accepted: the most replies is the newest state.
            if (target.Thread.IsEmpty || Replies(publication.Data) >= Replies(target.Thread))
                target.Thread = publication.Data;
            return;
        }

        if (target.Deleted)
            return;
        switch (action.Type)
        {
            case ActionTypes.Edit:
                target.Data = action.Data;
                target.Version++;
                target.EditedAt = publication.Time;
                break;
            case ActionTypes.Delete:
                target.Delete();
                break;
            case ActionTypes.React when reactions != ReactionPolicy.Off && publication.From is { } user:
                target.React(user, action.Key!, publication.Offset);
                break;
            case ActionTypes.Unreact when reactions != ReactionPolicy.Off && publication.From is { } user:
                target.Unreact(user, action.Key!);
                break;
        }
    }
}
