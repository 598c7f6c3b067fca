using Herald.Channels;
using Herald.Engine;

namespace Herald.Publishing;

/// <summary>One message as <see cref="LatestView"/> folded it: the original with its edits, delete, reactions and thread summary.</summary>
public sealed class LatestMessage
{
    private readonly ReactionTally _reactions;

    internal LatestMessage(Publication publication, ReactionPolicy reactions, int usersListed)
    {
        Publication = publication;
        Data = publication.Data;
        _reactions = new ReactionTally(reactions, usersListed);
    }

    /// <summary>The original publication (its offset, time, author and first data).</summary>
    public Publication Publication { get; }

    /// <summary>1 for the original, plus one per edit applied.</summary>
    public int Version { get; internal set; } = 1;

    /// <summary>When the newest edit was appended; null when never edited.</summary>
    public DateTimeOffset? EditedAt { get; internal set; }

    /// <summary>The newest data: the original's or the newest edit's; empty when <see cref="Deleted"/>.</summary>
    public ReadOnlyMemory<byte> Data { get; internal set; }

    /// <summary>A <c>herald.delete</c> tombstoned it: no data, no reactions, and later edits and reactions are ignored.</summary>
    public bool Deleted { get; internal set; }

    /// <summary>The data of the newest <c>herald.thread</c> summary about it, by its <c>replies</c> (compact JSON); empty when it has no thread.</summary>
    public ReadOnlyMemory<byte> Thread { get; internal set; }

    /// <summary>The reaction keys with a count above 0, in the order they first got one (a key that dropped to 0 starts again).</summary>
    public IReadOnlyList<ReactionCount> Reactions => _reactions.Counts();

    internal void React(string user, string key, long seq) => _reactions.React(user, key, seq);

    internal void Unreact(string user, string key) => _reactions.Unreact(user, key);

    internal void Delete()
    {
        Deleted = true;
        Data = default;
        _reactions.Clear();
    }

    /// <summary>Who reacted how, under one <see cref="ReactionPolicy"/>.</summary>
    private sealed class ReactionTally(ReactionPolicy policy, int usersListed)
    {
        private readonly Dictionary<string, Key> _keys = new(StringComparer.Ordinal);

        /// <summary><see cref="ReactionPolicy.Unique"/>: each user's one key.</summary>
        private Dictionary<string, string>? _uniqueKeys;

        public void React(string user, string key, long seq)
        {
            switch (policy)
            {
                case ReactionPolicy.Distinct:
                    Add(user, key, seq, repeat: false);
                    break;
                case ReactionPolicy.Unique:
                    _uniqueKeys ??= new(StringComparer.Ordinal);
                    if (_uniqueKeys.TryGetValue(user, out var previous))
                    {
                        if (previous == key)
                            return;
                        Remove(user, previous, all: true);
                    }

                    _uniqueKeys[user] = key;
                    Add(user, key, seq, repeat: false);
                    break;
                case ReactionPolicy.Multiple:
                    Add(user, key, seq, repeat: true);
                    break;
            }
        }

        public void Unreact(string user, string key)
        {
            if (policy == ReactionPolicy.Unique)
            {
                if (_uniqueKeys is null || !_uniqueKeys.TryGetValue(user, out var current) || current != key)
                    return;
                _uniqueKeys.Remove(user);
            }

            Remove(user, key, all: policy != ReactionPolicy.Multiple);
        }

        public void Clear()
        {
            _keys.Clear();
            _uniqueKeys?.Clear();
        }

        public IReadOnlyList<ReactionCount> Counts()
        {
            if (_keys.Count == 0)
                return [];
            return [.. _keys.OrderBy(k => k.Value.Seq).Select(k => new ReactionCount(
                k.Key,
                k.Value.Total,
                [.. k.Value.Users.OrderBy(u => u.Value.Seq).Take(usersListed).Select(u => u.Key)]))];
        }

        private void Add(string user, string key, long seq, bool repeat)
        {
            if (!_keys.TryGetValue(key, out var entry))
                _keys[key] = entry = new Key(seq);
            if (entry.Users.TryGetValue(user, out var mine))
            {
                if (!repeat)
                    return;
                entry.Users[user] = mine with { Count = mine.Count + 1 };
            }
            else
            {
                entry.Users[user] = new UserReaction(seq, 1);
            }

            entry.Total++;
        }

        private void Remove(string user, string key, bool all)
        {
            if (!_keys.TryGetValue(key, out var entry) || !entry.Users.TryGetValue(user, out var mine))
                return;
            if (all || mine.Count == 1)
            {
                entry.Users.Remove(user);
                entry.Total -= mine.Count;
            }
            else
            {
                entry.Users[user] = mine with { Count = mine.Count - 1 };
                entry.Total--;
            }

            if (entry.Users.Count == 0)
                _keys.Remove(key);
        }

        private sealed class Key(long seq)
        {
            /// <summary>The offset of the react that made the key appear.</summary>
            public long Seq { get; } = seq;

            public Dictionary<string, UserReaction> Users { get; } = new(StringComparer.Ordinal);

            public int Total { get; set; }
        }

        /// <param name="Seq">The offset of the user's first react of the key (still counted).</param>
        /// <param name="Count">How many of the user's reacts count (above 1 only with <see cref="ReactionPolicy.Multiple"/>).</param>
        private readonly record struct UserReaction(long Seq, int Count);
    }
}

/// <summary>One reaction key of a message: how many count and the first users who reacted with it.</summary>
/// <param name="Users">At most the namespace's <see cref="ChannelPolicy.ReactionUsersListed"/>, earliest first.</param>
public sealed record ReactionCount(string Key, int Count, IReadOnlyList<string> Users);
