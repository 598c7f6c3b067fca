using System.Buffers;
using System.Buffers.Text;
using System.Text;
using Herald.Log;

namespace Herald.Hub;

/// <summary>
/// Frames a publication as one Server-Sent Events event:
/// <code>
/// id: &lt;epoch&gt;.&lt;offset&gt;
/// event: publication
/// data: &lt;push JSON, one line&gt;
///
/// </code>
/// </summary>
/// <remarks>
/// The <c>id</c> (what the browser sends back as <c>Last-Event-ID</c>) is a single-channel position
/// for now; the multi-channel cursor replaces it, which is why this class is kept on its own.
/// </remarks>
internal static class SseEventEncoder
{
    public static void Write(IBufferWriter<byte> output, Publication publication)
    {
        output.Write("id: "u8);
        WriteAscii(output, publication.Epoch);
        output.Write("."u8);
        WriteOffset(output, publication.Offset);
        output.Write("\nevent: publication\ndata: "u8);
        PublicationEncoder.WriteJson(output, publication);
        output.Write("\n\n"u8);
    }

    private static void WriteAscii(IBufferWriter<byte> output, string value)
    {
        var span = output.GetSpan(Encoding.UTF8.GetMaxByteCount(value.Length));
        output.Advance(Encoding.UTF8.GetBytes(value, span));
    }

    private static void WriteOffset(IBufferWriter<byte> output, long offset)
    {
        var span = output.GetSpan(20);
        Utf8Formatter.TryFormat(offset, span, out var written);
        output.Advance(written);
    }
}
