using System.Buffers;
using System.Text.Json;

using Herald.Reading;

namespace Herald.Receipts;

/// <summary>
/// The receipts' JSON (docs/protocol.md, "Receipts"): the <c>receipts</c> message clients receive —
/// <c>{"type":"receipts","channel","snapshot"?,"off"?,"members":{user:{"seen"?,"delivered"?}}}</c>,
/// each marker <c>{"epoch","offset","n","updatedAt"}</c> as a read marker — and the change one node
/// sends the others.
/// </summary>
internal static class ReceiptJson
{
    /// <summary>Every member's receipts; a member without any is listed with <c>{}</c> (a member who has received nothing yet).</summary>
    public static byte[] Snapshot(string channel, IReadOnlyList<MemberReceipt> receipts) =>
        Write(channel, snapshot: true, off: null, writer =>
        {
            foreach (var receipt in receipts)
                WriteMember(writer, receipt.User, receipt.Seen, receipt.Delivered);
        });

    /// <summary>The members whose markers moved, with only the markers that moved.</summary>
    public static byte[] Diff(string channel, IReadOnlyDictionary<string, ReceiptChange> changes) =>
        Write(channel, snapshot: false, off: null, writer =>
        {
            foreach (var (user, change) in changes.OrderBy(c => c.Key, StringComparer.Ordinal))
                WriteMember(writer, user, change.Seen, change.Delivered);
        });

    /// <summary>A snapshot saying the channel shows no receipts: <c>disabled</c> (its policy) or <c>too_many_members</c>.</summary>
    public static byte[] Off(string channel, string reason) => Write(channel, snapshot: true, off: reason, _ => { });

    /// <summary>Writes the HTTP answer of <c>GET /v1/channels/{channel}/receipts</c> (a snapshot without <c>type</c>).</summary>
    public static byte[] Answer(string channel, IReadOnlyList<MemberReceipt>? receipts) =>
        Write(channel, snapshot: null, off: receipts is null ? "too_many_members" : null, writer =>
        {
            foreach (var receipt in receipts ?? [])
                WriteMember(writer, receipt.User, receipt.Seen, receipt.Delivered);
        });

    private static byte[] Write(string channel, bool? snapshot, string? off, Action<Utf8JsonWriter> members)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (snapshot is not null)
                writer.WriteString("type"u8, ReceiptService.EventKind);
            writer.WriteString("channel"u8, channel);
            if (snapshot is true)
                writer.WriteBoolean("snapshot"u8, true);
            if (off is not null)
            {
                writer.WriteBoolean("off"u8, true);
                writer.WriteString("reason"u8, off);
            }

            writer.WriteStartObject("members"u8);
            members(writer);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static void WriteMember(Utf8JsonWriter writer, string user, ReadMarker? seen, ReadMarker? delivered)
    {
        writer.WriteStartObject(user);
        if (seen is not null)
            WriteMarker(writer, "seen"u8, seen);
        if (delivered is not null)
            WriteMarker(writer, "delivered"u8, delivered);
        writer.WriteEndObject();
    }

    private static void WriteMarker(Utf8JsonWriter writer, ReadOnlySpan<byte> name, ReadMarker marker)
    {
        writer.WriteStartObject(name);
        writer.WriteString("epoch"u8, marker.Epoch);
        writer.WriteNumber("offset"u8, marker.Offset);
        writer.WriteNumber("n"u8, marker.N);
        writer.WriteString("updatedAt"u8, marker.UpdatedAt.UtcDateTime);
        writer.WriteEndObject();
    }

    /// <summary>One member's change between nodes: <c>{"user","seen"?,"delivered"?}</c>, markers as clients see them.</summary>
    public static byte[] Change(string user, ReadMarker? seen, ReadMarker? delivered)
    {
        var buffer = new ArrayBufferWriter<byte>(160);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("user"u8, user);
            if (seen is not null)
                WriteMarker(writer, "seen"u8, seen);
            if (delivered is not null)
                WriteMarker(writer, "delivered"u8, delivered);
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static (string User, ReadMarker? Seen, ReadMarker? Delivered) ReadChange(ReadOnlyMemory<byte> payload)
    {
        using var document = JsonDocument.Parse(payload);
        var root = document.RootElement;
        var user = root.TryGetProperty("user", out var u) ? u.GetString() ?? string.Empty : string.Empty;
        return (user, MarkerOf(root, "seen"), MarkerOf(root, "delivered"));
    }

    private static ReadMarker? MarkerOf(JsonElement root, string name) =>
        root.TryGetProperty(name, out var m)
            ? new ReadMarker(m.GetProperty("epoch").GetString()!, m.GetProperty("offset").GetInt64(), m.GetProperty("n").GetInt64(), m.GetProperty("updatedAt").GetDateTimeOffset())
            : null;

    /// <summary>Adds a change to <paramref name="pending"/>, keeping per member and marker the one further forward (another epoch's replaces).</summary>
    public static void Merge(Dictionary<string, ReceiptChange> pending, string user, ReadMarker? seen, ReadMarker? delivered)
    {
        pending.TryGetValue(user, out var held);
        pending[user] = new ReceiptChange(Forward(held.Seen, seen), Forward(held.Delivered, delivered));

        static ReadMarker? Forward(ReadMarker? held, ReadMarker? next) =>
            next is null ? held : held is null || ReadMarkers.Advances(held, next, allowBackward: false) ? next : held;
    }
}
