using System.Text;
using System.Text.Json;
using Herald.Engine;
using Herald.Hub;
using Herald.Publishing;

namespace Herald.Fuzz.Targets;

/// <summary>
/// The push encoders' inputs: a publication whose <c>type</c> (first line, as a publish body's
/// <c>type</c> reaches the store: valid Unicode, 1–64 characters), <c>from</c> (second line, a
/// token's subject) and <c>data</c> (the rest, as stored: compacted, or raw as an older log may hold it).
/// </summary>
internal sealed class EncodersTarget : IFuzzTarget
{
    public string Name => "encoders";

    public string Description => "PublicationEncoder (JSON, NDJSON, SSE) of fuzzed type/from/data; one line each, the SSE frame's data line holds no CR/LF, the JSON reads back the same fields";

    public void Run(ReadOnlySpan<byte> input)
    {
        var type = Check.FirstLine(input, Encoding.UTF8, out var rest);
        var from = Check.FirstLine(rest, Encoding.UTF8, out var data);
        if (!PublishService.IsValidType(type))
            type = "message";
        if (!JsonData.TryCompact(data.ToArray(), out var compact, out _))
            return;

        var meta = Webhooks.Inbound.InboundWebhookEndpoint.MetaOf("github", from.Length == 0 ? null : from);
        EncoderChecks.All(Publication(type, from.Length == 0 ? null : from, compact, meta));
        if (Check.IsPortableJson(data))
            EncoderChecks.All(Publication(type, from, data.ToArray(), default));
    }

    private static Publication Publication(string? type, string? from, byte[] data, ReadOnlyMemory<byte> meta) => new()
    {
        Channel = "chat:lobby",
        Offset = 42,
        Epoch = "k3f9",
        Id = "0197c2f0a1b2c3d4e5f60718293a4b5c",
        Time = new DateTimeOffset(2026, 12, 2, 3, 4, 5, TimeSpan.Zero),
        From = from,
        Type = type,
        Meta = meta,
        Data = data,
    };
}

internal static class EncoderChecks
{
    /// <summary>Encodes <paramref name="publication"/> in every wire format and checks each frame.</summary>
    public static void All(Publication publication)
    {
        Check.That(publication.Type is null || Check.IsValidUtf16(publication.Type), $"The stored type is not valid Unicode: {Escape(publication.Type)}");
        Check.That(publication.From is null || Check.IsValidUtf16(publication.From), $"The stored publisher is not valid Unicode: {Escape(publication.From)}");

        var json = PublicationEncoder.Encode(publication, WireFormat.Json);
        Check.That(json.AsSpan().IndexOfAny((byte)'\n', (byte)'\r') < 0, "The JSON push holds a raw line break.");
        Check.PortableJson(json, "The JSON push");

        var ndjson = PublicationEncoder.Encode(publication, WireFormat.Ndjson);
        Check.That(ndjson.AsSpan().SequenceEqual([.. json, (byte)'\n']), "The NDJSON line is not the JSON push and one newline.");

        var sse = PublicationEncoder.Encode(publication, WireFormat.Sse);
        Check.That(sse.AsSpan().SequenceEqual([.. "event: publication\ndata: "u8, .. json, .. "\n\n"u8]), "The SSE event is not one data: line of the JSON push.");

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        Check.That(root.GetProperty("type").GetString() == "publication" && root.GetProperty("channel").GetString() == publication.Channel
            && root.GetProperty("offset").GetInt64() == publication.Offset, "The push's envelope fields differ.");
        Check.That(Member(root, "msgType") == publication.Type, $"msgType reads back as {Escape(Member(root, "msgType"))}, not {Escape(publication.Type)}.");
        Check.That(Member(root, "from") == publication.From, $"from reads back as {Escape(Member(root, "from"))}, not {Escape(publication.From)}.");
        using var data = JsonDocument.Parse(publication.Data);
        Check.That(Check.SameJson(root.GetProperty("data"), data.RootElement), "The push's data differs from the stored data.");
        if (!publication.Meta.IsEmpty)
        {
            using var meta = JsonDocument.Parse(publication.Meta);
            Check.That(Check.SameJson(root.GetProperty("meta"), meta.RootElement), "The push's meta differs.");
        }
    }

    private static string? Member(JsonElement root, string name) => root.TryGetProperty(name, out var value) ? value.GetString() : null;

    private static string Escape(string? text) =>
        text is null ? "null" : string.Concat(text.Select(c => c is >= ' ' and < '\x7f' ? c.ToString() : $"\\u{(int)c:x4}"));
}
