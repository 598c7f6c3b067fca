using System.Buffers;
using System.Text.Json;

namespace Herald.Presence;

/// <summary>
/// The presence messages clients receive (docs/protocol.md, "Presence"), each one compact JSON
/// object with a <c>type</c>: the same bytes on every transport (SSE names the event after the type).
/// </summary>
public static class PresenceJson
{
    /// <summary>A numbered diff: who joined, left or changed, and the counts after it.</summary>
    public static byte[] Diff(string channel, string epoch, long from, long to, IReadOnlyList<PresenceMember> join, IReadOnlyList<string> leave, IReadOnlyList<PresenceMember> update, PresenceCounts counts) =>
        Write(256, writer =>
        {
            writer.WriteString("type"u8, PresenceEvents.Diff);
            writer.WriteString("channel"u8, channel);
            writer.WriteString("epoch"u8, epoch);
            writer.WriteNumber("from"u8, from);
            writer.WriteNumber("to"u8, to);
            WriteMembers(writer, "join"u8, join);
            writer.WriteStartArray("leave"u8);
            foreach (var user in leave)
                writer.WriteStringValue(user);
            writer.WriteEndArray();
            WriteMembers(writer, "update"u8, update);
            WriteCounts(writer, counts);
        });

    /// <summary>Counts only, conflated by each node to at most one a second per channel.</summary>
    public static byte[] Count(string channel, PresenceCounts counts) =>
        Write(96, writer =>
        {
            writer.WriteString("type"u8, PresenceEvents.Count);
            writer.WriteString("channel"u8, channel);
            WriteCounts(writer, counts);
        });

    /// <summary>
    /// The first presence message of a subscription: its mode, and (for <c>list</c>) whether the
    /// missed diffs follow (<c>recovered</c>) or a snapshot does.
    /// </summary>
    public static byte[] State(string channel, PresenceMode mode, bool recovered, string epoch, long seq, PresenceCounts counts) =>
        Write(160, writer =>
        {
            writer.WriteString("type"u8, "presence_state");
            writer.WriteString("channel"u8, channel);
            writer.WriteString("mode"u8, ModeName(mode));
            writer.WriteBoolean("recovered"u8, recovered);
            writer.WriteString("epoch"u8, epoch);
            writer.WriteNumber("seq"u8, seq);
            WriteCounts(writer, counts);
        });

    /// <summary>One page of a snapshot; <c>last</c> on the final one. Diffs after <c>seq</c> follow it.</summary>
    public static byte[] Snapshot(string channel, PresencePage page, bool last) =>
        Write(128 + (64 * page.Members.Count), writer =>
        {
            writer.WriteString("type"u8, "presence_snapshot");
            writer.WriteString("channel"u8, channel);
            writer.WriteString("epoch"u8, page.Epoch);
            writer.WriteNumber("seq"u8, page.Seq);
            WriteMembers(writer, "members"u8, page.Members);
            writer.WriteBoolean("last"u8, last);
            WriteCounts(writer, page.Counts);
        });

    public static string ModeName(PresenceMode mode) => mode switch
    {
        PresenceMode.Enter => "enter",
        PresenceMode.Count => "count",
        PresenceMode.List => "list",
        _ => "off",
    };

    public static bool TryParseMode(string? text, out PresenceMode mode)
    {
        mode = text switch
        {
            "off" => PresenceMode.Off,
            "enter" => PresenceMode.Enter,
            "count" => PresenceMode.Count,
            "list" => PresenceMode.List,
            _ => (PresenceMode)(-1),
        };
        return (int)mode >= 0;
    }

    public static void WriteMember(Utf8JsonWriter writer, PresenceMember member)
    {
        writer.WriteStartObject();
        writer.WriteString("user"u8, member.User);
        if (!member.Info.IsEmpty)
        {
            writer.WritePropertyName("info"u8);
            writer.WriteRawValue(member.Info.Span, skipInputValidation: true);
        }

        if (member.Status is not null)
            writer.WriteString("status"u8, member.Status);
        writer.WriteNumber("conns"u8, member.Connections);
        writer.WriteNumber("since"u8, member.Since.ToUnixTimeMilliseconds());
        writer.WriteEndObject();
    }

    private static void WriteMembers(Utf8JsonWriter writer, ReadOnlySpan<byte> name, IReadOnlyList<PresenceMember> members)
    {
        writer.WriteStartArray(name);
        foreach (var member in members)
            WriteMember(writer, member);
        writer.WriteEndArray();
    }

    private static void WriteCounts(Utf8JsonWriter writer, PresenceCounts counts)
    {
        writer.WriteNumber("users"u8, counts.Users);
        writer.WriteNumber("connections"u8, counts.Connections);
    }

    /// <summary>One compact JSON object: <paramref name="body"/> writes its members.</summary>
    internal static byte[] Write(int sizeHint, Action<Utf8JsonWriter> body)
    {
        var buffer = new ArrayBufferWriter<byte>(sizeHint);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }
}
