using System.Buffers;
using System.IO.Pipelines;
using Herald.Hub;
using Herald.Transports.Push;
using Microsoft.AspNetCore.Http;

namespace Herald.Transports.Stream;

/// <summary>
/// HTTP streaming framing (application/x-ndjson): one JSON object per line. A publication line is
/// the shared NDJSON bytes with the connection's cursor spliced in as the first member:
/// <c>{"cursor":"..",</c> followed by the shared <c>"type":"publication",...}\n</c>.
/// </summary>
internal sealed class StreamTransport(HttpContext context, CursorTracker cursor)
    : PushTransport(context, cursor)
{
    private static readonly ReadOnlyMemory<byte> s_heartbeat = "{\"type\":\"heartbeat\"}\n"u8.ToArray();

    public override WireFormat Format => WireFormat.Ndjson;

    public override string Transport => "stream";

    protected override ReadOnlyMemory<byte> Heartbeat => s_heartbeat;

    public override void PrepareResponse(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.ContentType = "application/x-ndjson";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    protected override void WritePublication(PipeWriter output, CursorTracker cursor, ReadOnlySpan<byte> shared)
    {
        // The shared line is {"type":"publication",...}\n: drop its '{' and open our own object.
        output.Write("{\"cursor\":\""u8);
        cursor.WriteTo(output);
        output.Write("\","u8);
        output.Write(shared[1..]);
    }

    protected override void WriteSubscribed(PipeWriter output, CursorTracker cursor, ReadOnlySpan<byte> entry)
    {
        output.Write("{\"type\":\"subscribed\",\"channels\":{"u8);
        output.Write(entry);
        output.Write("},\"cursor\":\""u8);
        cursor.WriteTo(output);
        output.Write("\"}\n"u8);
    }

    protected override void WriteUnsubscribed(PipeWriter output, CursorTracker cursor, string channel)
    {
        UnsubscribedNotice.WriteJson(output, cursor, channel, typed: true);
        output.Write("\n"u8);
    }

    protected override void WriteDisconnect(PipeWriter output, DisconnectReason reason)
    {
        WriteDisconnectJson(output, reason, typed: true);
        output.Write("\n"u8);
    }
}
