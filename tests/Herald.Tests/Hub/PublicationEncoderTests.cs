using System.Text;
using System.Text.Json;
using Herald.Hub;
using Herald.Engine;

namespace Herald.Tests.Hub;

public sealed class PublicationEncoderTests
{
    private static Publication Sample(string data, string? from = "alice", string? type = "message") => new()
    {
        Channel = "chat:lobby",
        Offset = 42,
        Epoch = "k3f9",
        Id = "0197a1b2c3d4e5f60718293a4b5c6d7e",
        Time = new DateTimeOffset(2026, 1, 2, 3, 4, 5, 678, TimeSpan.FromHours(2)),
        From = from,
        Type = type,
        Data = Encoding.UTF8.GetBytes(data),
    };

    [Fact]
    public void The_push_json_carries_every_field_and_the_data_verbatim()
    {
        var json = Encoding.UTF8.GetString(PublicationEncoder.Encode(Sample("{\"text\":\"héllo\",\"n\":[1,2]}"), WireFormat.Json));

        Assert.Equal(
            "{\"type\":\"publication\",\"channel\":\"chat:lobby\",\"offset\":42,\"epoch\":\"k3f9\","
            + "\"id\":\"0197a1b2c3d4e5f60718293a4b5c6d7e\",\"time\":\"2026-01-02T01:04:05.678Z\","
            + "\"from\":\"alice\",\"msgType\":\"message\",\"data\":{\"text\":\"héllo\",\"n\":[1,2]}}",
            json);
    }

    [Fact]
    public void Absent_from_and_type_are_omitted()
    {
        var json = Encoding.UTF8.GetString(PublicationEncoder.Encode(Sample("1", from: null, type: null), WireFormat.Json));

        Assert.DoesNotContain("\"from\"", json, StringComparison.Ordinal);
        Assert.DoesNotContain("msgType", json, StringComparison.Ordinal);
        Assert.EndsWith("\"data\":1}", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Meta_is_written_before_the_data_when_the_publication_has_some()
    {
        var publication = Sample("1", from: "webhook:github", type: "push");
        publication = new Publication
        {
            Channel = publication.Channel, Offset = publication.Offset, Epoch = publication.Epoch, Id = publication.Id, Time = publication.Time,
            From = publication.From, Type = publication.Type, Data = publication.Data,
            Meta = Encoding.UTF8.GetBytes("{\"source\":\"github\",\"deliveryId\":\"d-1\"}"),
        };
        var json = Encoding.UTF8.GetString(PublicationEncoder.Encode(publication, WireFormat.Json));
        Assert.EndsWith("\"msgType\":\"push\",\"meta\":{\"source\":\"github\",\"deliveryId\":\"d-1\"},\"data\":1}", json, StringComparison.Ordinal);
        Assert.DoesNotContain("meta", Encoding.UTF8.GetString(PublicationEncoder.Encode(Sample("1"), WireFormat.Json)), StringComparison.Ordinal);
    }

    [Fact]
    public void Pretty_printed_data_is_compacted_so_a_message_stays_on_one_line()
    {
        foreach (var format in new[] { WireFormat.Json, WireFormat.Ndjson, WireFormat.Sse })
        {
            var text = Encoding.UTF8.GetString(PublicationEncoder.Encode(Sample("{\r\n  \"a\": [1,\n 2],\n  \"s\": \"x y\"\n}"), format));
            var body = format switch
            {
                WireFormat.Ndjson => text[..^1],
                WireFormat.Sse => text.Split('\n')[1]["data: ".Length..],
                _ => text,
            };

            Assert.DoesNotContain('\r', body);
            Assert.DoesNotContain('\n', body);
            using var document = JsonDocument.Parse(body);
            Assert.Equal("x y", document.RootElement.GetProperty("data").GetProperty("s").GetString());
        }
    }

    [Fact]
    public void Each_format_is_encoded_once_and_shared()
    {
        var encoded = new EncodedPublication(Sample("{}"));

        var first = encoded.GetBytes(WireFormat.Sse);
        var second = encoded.GetBytes(WireFormat.Sse);

        Assert.True(first.Span == second.Span);
        Assert.StartsWith("event: publication\ndata: {", Encoding.UTF8.GetString(first.Span), StringComparison.Ordinal);
        Assert.EndsWith("}\n\n", Encoding.UTF8.GetString(first.Span), StringComparison.Ordinal);
    }
}
