using System.Buffers;
using Herald.Engine;

namespace Herald.Hub;

/// <summary>
/// Frames a publication as the shared part of one Server-Sent Events event:
/// <code>
/// event: publication
/// data: &lt;push JSON, one line&gt;
///
/// </code>
/// </summary>
/// <remarks>
/// The <c>id:</c> line (what the browser sends back as <c>Last-Event-ID</c>) is the session's
/// multi-channel cursor after this event, so it differs per session: the SSE transport writes it
/// in front of these shared bytes. Stored data never holds a raw newline, so one <c>data:</c>
/// line always suffices.
/// </remarks>
internal static class SseEventEncoder
{
    public static void Write(IBufferWriter<byte> output, Publication publication)
    {
        output.Write("event: publication\ndata: "u8);
        PublicationEncoder.WriteJson(output, publication);
        output.Write("\n\n"u8);
    }
}
