using System.Text.Json;

namespace Herald.Client;

/// <summary>
/// The members of one channel, kept from the server's <c>presence_state</c>, <c>presence_snapshot</c>,
/// <c>presence</c> and <c>presence_count</c> messages (docs/protocol.md#presence). A snapshot replaces the
/// list on its last page; a diff applies only right after <see cref="Position"/>, as upserts and
/// removals; anything else is a gap, and the client reconnects from <see cref="Position"/> (the server
/// sends the missed diffs, or a new snapshot). The same rules as the TypeScript SDK's <c>PresenceList</c>.
/// </summary>
public sealed class PresenceList
{
    private readonly object gate = new();
    private readonly List<PresenceMember> list = [];
    private List<PresenceMember>? pending;

    internal PresenceList(PresenceMode asked) => Asked = asked;

    /// <summary>What the subscription asked for.</summary>
    public PresenceMode Asked { get; }

    /// <summary>What the server granted (<see cref="PresenceMode.Off"/> on a namespace without presence); null before it said.</summary>
    public PresenceMode? Mode { get; private set; }

    /// <summary>The last snapshot or diff applied: sent as <c>presenceSince</c> on every reconnect.</summary>
    public PresencePosition? Position { get; private set; }

    /// <summary>Users present.</summary>
    public int Users { get; private set; }

    /// <summary>Connections present (anonymous ones included).</summary>
    public int Connections { get; private set; }

    /// <summary>Everyone listed, in snapshot order then by joining.</summary>
    public IReadOnlyList<PresenceMember> Members
    {
        get
        {
            lock (gate)
                return [.. list];
        }
    }

    /// <summary>Applies one message: the event to raise (null when nothing changed), or a gap.</summary>
    internal (PresenceEvent? Event, bool Gap) Apply(JsonElement m)
    {
        lock (gate)
        {
            var counted = false;
            if (m.TryGetProperty("users", out var users) && users.ValueKind == JsonValueKind.Number && users.GetInt32() != Users)
            {
                Users = users.GetInt32();
                counted = true;
            }

            if (m.TryGetProperty("connections", out var connections) && connections.ValueKind == JsonValueKind.Number && connections.GetInt32() != Connections)
            {
                Connections = connections.GetInt32();
                counted = true;
            }

            switch (Str(m, "type"))
            {
                case "presence_state":
                {
                    var mode = Str(m, "mode") switch
                    {
                        "enter" => PresenceMode.Enter,
                        "count" => PresenceMode.Count,
                        "list" => PresenceMode.List,
                        _ => PresenceMode.Off,
                    };
                    var changed = mode != Mode;
                    Mode = mode;
                    if (mode == PresenceMode.List)
                    {
                        if (m.TryGetProperty("recovered", out var recovered) && recovered.ValueKind == JsonValueKind.True)
                            return (counted ? Event([], [], []) : null, false);
                        pending = [];
                        return (null, false);
                    }

                    // Counts only from now on: whoever was listed is not any more.
                    var left = list.ToList();
                    list.Clear();
                    Position = null;
                    return (changed || counted || left.Count > 0 ? Event([], left, []) : null, false);
                }

                case "presence_snapshot":
                {
                    pending ??= [];
                    pending.AddRange(ReadMembers(m, "members"));
                    if (!m.TryGetProperty("last", out var last) || last.ValueKind != JsonValueKind.True)
                        return (null, false);
                    var next = pending;
                    pending = null;
                    var joined = next.Where(n => list.All(o => o.User != n.User)).ToList();
                    var updated = next.Where(n => list.Any(o => o.User == n.User && !Same(o, n))).ToList();
                    var left = list.Where(o => next.All(n => n.User != o.User)).ToList();
                    list.Clear();
                    list.AddRange(next);
                    Position = new PresencePosition(Str(m, "epoch"), m.GetProperty("seq").GetInt64());
                    return (Event(joined, left, updated), false);
                }

                case "presence":
                {
                    var from = m.GetProperty("from").GetInt64();
                    var to = m.GetProperty("to").GetInt64();
                    if (pending is not null || Position is not { } at || Str(m, "epoch") != at.Epoch || from > at.Seq)
                        return (null, true);
                    if (to <= at.Seq)
                        return (counted ? Event([], [], []) : null, false);
                    var joined = new List<PresenceMember>();
                    var updated = new List<PresenceMember>();
                    var left = new List<PresenceMember>();
                    foreach (var member in ReadMembers(m, "join").Concat(ReadMembers(m, "update")))
                    {
                        var index = list.FindIndex(o => o.User == member.User);
                        if (index < 0)
                        {
                            list.Add(member);
                            joined.Add(member);
                        }
                        else
                        {
                            list[index] = member;
                            updated.Add(member);
                        }
                    }

                    if (m.TryGetProperty("leave", out var leave) && leave.ValueKind == JsonValueKind.Array)
                    {
                        foreach (var user in leave.EnumerateArray())
                        {
                            var index = list.FindIndex(o => o.User == user.GetString());
                            if (index < 0)
                                continue;
                            left.Add(list[index]);
                            list.RemoveAt(index);
                        }
                    }

                    Position = at with { Seq = to };
                    return (Event(joined, left, updated), false);
                }

                default:
                    return (counted ? Event([], [], []) : null, false);
            }
        }
    }

    private PresenceEvent Event(List<PresenceMember> joined, List<PresenceMember> left, List<PresenceMember> updated) =>
        new([.. list], Users, Connections, joined, left, updated);

    private static List<PresenceMember> ReadMembers(JsonElement m, string name)
    {
        var members = new List<PresenceMember>();
        if (!m.TryGetProperty(name, out var array) || array.ValueKind != JsonValueKind.Array)
            return members;
        foreach (var entry in array.EnumerateArray())
        {
            var info = entry.TryGetProperty("info", out var i) ? new JsonData(System.Text.Encoding.UTF8.GetBytes(i.GetRawText())) : (JsonData?)null;
            var status = entry.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String ? s.GetString() : null;
            members.Add(new PresenceMember(Str(entry, "user"), info, status, entry.GetProperty("conns").GetInt32(), DateTimeOffset.FromUnixTimeMilliseconds(entry.GetProperty("since").GetInt64())));
        }

        return members;
    }

    private static bool Same(PresenceMember a, PresenceMember b) =>
        a.Status == b.Status && a.Conns == b.Conns && Nullable.Equals(a.Info, b.Info);

    private static string Str(JsonElement o, string name) =>
        o.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : throw HeraldException.Invalid($"'{name}' is not a string");
}
