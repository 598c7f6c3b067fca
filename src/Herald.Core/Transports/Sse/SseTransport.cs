using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using Herald.Hub;
using Herald.Transports.Push;
using Microsoft.AspNetCore.Http;

namespace Herald.Transports.Sse;

/// <summary>
/// Server-Sent Events framing (text/event-stream). Every event that moves the connection's position
/// carries an <c>id:</c> line holding the cursor after it, which the browser sends back as
/// <c>Last-Event-ID</c> when it reconnects.
/// </summary>
internal sealed class SseTransport(HttpContext context, CursorTracker cursor, TransportOptions options)
    : PushTransport(context, cursor)
{
    private static readonly ReadOnlyMemory<byte> s_heartbeat = ": heartbeat\n\n"u8.ToArray();

    public override WireFormat Format => WireFormat.Sse;

    public override string Transport => "sse";

    protected override ReadOnlyMemory<byte> Heartbeat => s_heartbeat;

    public override void PrepareResponse(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        PrepareEventStream(response);
    }

    public override void WritePreamble(PipeWriter output)
    {
        ArgumentNullException.ThrowIfNull(output);
        WriteRetry(output, options.SseRetryMilliseconds);
    }

    /// <summary>The headers of every event stream Herald serves (this transport's and <c>/v1/stats/stream</c>).</summary>
    internal static void PrepareEventStream(HttpResponse response)
    {
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
    }

    /// <summary>The stream's first field: how long a browser waits before it reconnects.</summary>
    internal static void WriteRetry(PipeWriter output, int milliseconds)
    {
        output.Write("retry: "u8);
        WriteInteger(output, milliseconds);
        output.Write("\n\n"u8);
    }

    protected override void WritePublication(PipeWriter output, CursorTracker cursor, ReadOnlySpan<byte> shared)
    {
        output.Write("id: "u8);
        cursor.WriteTo(output);
        output.Write("\n"u8);
        output.Write(shared);
    }

    protected override void WriteSubscribed(PipeWriter output, CursorTracker cursor, ReadOnlySpan<byte> entry)
    {
        output.Write("id: "u8);
        cursor.WriteTo(output);
        output.Write("\nevent: subscribed\ndata: {\"channels\":{"u8);
        output.Write(entry);
        output.Write("},\"cursor\":\""u8);
        cursor.WriteTo(output);
        output.Write("\"}\n\n"u8);
    }

    protected override void WriteUnsubscribed(PipeWriter output, CursorTracker cursor, string channel)
    {
        output.Write("id: "u8);
        cursor.WriteTo(output);
        output.Write("\nevent: unsubscribed\ndata: "u8);
        UnsubscribedNotice.WriteJson(output, cursor, channel, typed: false);
        output.Write("\n\n"u8);
    }

    protected override void WriteDisconnect(PipeWriter output, DisconnectReason reason)
    {
        output.Write("event: disconnect\ndata: "u8);
        WriteDisconnectJson(output, reason, typed: false);
        output.Write("\n\n"u8);
    }

    private static void WriteInteger(PipeWriter output, int value)
    {
        var span = output.GetSpan(11);
        value.TryFormat(span, out var written, provider: CultureInfo.InvariantCulture);
        output.Advance(written);
    }
}
