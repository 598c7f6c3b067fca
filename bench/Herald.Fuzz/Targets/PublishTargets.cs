using System.Buffers;
using System.Text.Json;
using Herald.Api;
using Herald.Publishing;

namespace Herald.Fuzz.Targets;

/// <summary>
/// The HTTP publish body (<c>{"data":…,"type":…}</c>) as the endpoint reads it: the envelope, then the
/// publish service's checks of <c>type</c> and <c>data</c>. The body arrives in the request's own
/// buffers, so it is also read split into two segments, which must not change any answer.
/// </summary>
internal sealed class PublishBodyTarget : IFuzzTarget
{
    public string Name => "publish-body";

    public string Description => "PublishEnvelope.TryParse + JsonData.TryCompact(data), whole and in two segments; accepted data is compact, portable JSON equal to what was sent";

    public void Run(ReadOnlySpan<byte> input)
    {
        var body = input.ToArray();
        var whole = Parse(new ReadOnlySequence<byte>(body));
        var split = Parse(Segments.Split(body, body.Length / 2));
        Check.That(whole == split, $"One segment: {whole}; two segments: {split}.");
    }

    private static string Parse(ReadOnlySequence<byte> body)
    {
        if (!PublishEnvelope.TryParse(body, out var envelope, out var error))
        {
            // Messages quote the text around the error, which differs with the segments: not compared.
            Check.That(error.Length > 0, "A refused body has no error.");
            return "refused";
        }

        Check.That(envelope.Text is null || Check.IsValidUtf16(envelope.Text), "An accepted type is not valid UTF-16.");
        return "accepted: " + envelope.Text + " " + JsonDataChecks.Compact(envelope.Data);
    }
}

/// <summary>A whole body as <c>data</c> (an inbound webhook's body is stored as is): JsonData's check and compaction.</summary>
internal sealed class JsonDataTarget : IFuzzTarget
{
    public string Name => "json-data";

    public string Description => "JsonData.TryCompact(body), whole and in segments; accepted data is compact, portable JSON equal to the input";

    public void Run(ReadOnlySpan<byte> input)
    {
        var body = input.ToArray();
        var whole = JsonDataChecks.Compact(new ReadOnlySequence<byte>(body));
        var split = JsonDataChecks.Compact(Segments.Split(body, body.Length / 3, 2 * body.Length / 3));
        Check.That(whole == split, $"One segment: {whole}; three segments: {split}.");
    }
}

internal static class JsonDataChecks
{
    /// <summary>Compacts <paramref name="data"/>; when accepted, checks the stored form against what was sent.</summary>
    public static string Compact(ReadOnlySequence<byte> data)
    {
        if (!JsonData.TryCompact(data, out var compact, out var error))
        {
            Check.That(error.Length > 0, "Refused data has no error.");
            return "refused";
        }

        Check.PortableJson(compact, "Accepted data");
        Check.That(compact.AsSpan().IndexOfAny((byte)'\n', (byte)'\r') < 0, "Compacted data holds a raw line break.");
        using var sent = JsonDocument.Parse(data);
        using var stored = JsonDocument.Parse(compact);
        Check.That(Check.SameJson(sent.RootElement, stored.RootElement), "Compaction changed the value.");
        return Convert.ToBase64String(compact);
    }
}

/// <summary>A byte array as a multi-segment sequence, cut at the given offsets.</summary>
internal sealed class Segments : ReadOnlySequenceSegment<byte>
{
    private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    public static ReadOnlySequence<byte> Split(byte[] bytes, params int[] cuts)
    {
        var first = new Segments(bytes.AsMemory(0, cuts.Length == 0 ? bytes.Length : cuts[0]), 0);
        var last = first;
        for (var i = 0; i < cuts.Length; i++)
        {
            var end = i + 1 < cuts.Length ? cuts[i + 1] : bytes.Length;
            var next = new Segments(bytes.AsMemory(cuts[i], end - cuts[i]), cuts[i]);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
