using BenchmarkDotNet.Attributes;
using Herald.Client;
using Herald.Client.Internal;

namespace Herald.ClientBench;

/// <summary>
/// Allocation and time per received publication on the client's hot path: one NDJSON line or one
/// message of a coalesced WebSocket frame parsed (<see cref="WireParser"/>), checked against the
/// channel's position and delivered to an application handler as a <see cref="Publication{T}"/>.
/// </summary>
[MemoryDiagnoser]
public class ReceivePathBenchmarks : SubscriptionBase.IOwner
{
    private const int Lines = 1024;
    private readonly byte[][] lines = new byte[Lines][];
    private readonly byte[][] frames = new byte[Lines / 32][];
    private WireParser parser = null!;
    private Subscription<ChatLine> typed = null!;
    private Subscription<JsonData> raw = null!;
    private long sum;

    [GlobalSetup]
    public void Setup()
    {
        var buffer = new byte[1024];
        for (var i = 0; i < Lines; i++)
            lines[i] = buffer.AsSpan(0, Wire.StreamLine(buffer, i + 1)).ToArray();
        var frame = new byte[64 * 1024];
        for (var f = 0; f < frames.Length; f++)
        {
            var at = 0;
            for (var i = 0; i < 32; i++)
            {
                if (i > 0)
                    frame[at++] = (byte)'\n';
                at += Wire.Publication(frame.AsSpan(at), (f * 32) + i + 1);
            }

            frames[f] = frame.AsSpan(0, at).ToArray();
        }

        parser = new WireParser();
        typed = new Subscription<ChatLine>(Wire.Channel, null, DataReader<ChatLine>.For(BenchJson.Default.ChatLine), this);
        typed.Received += (_, p) => sum += p.Data.N;
        raw = new Subscription<JsonData>(Wire.Channel, null, RawDataReader.Instance, this);
        raw.Received += (_, p) => sum += p.Data.Utf8.Length;
    }

    [Benchmark(OperationsPerInvoke = Lines, Description = "NDJSON line -> Publication<ChatLine> (source-generated)")]
    public long Typed()
    {
        typed.Confirm(new SubscribeReply(false, Wire.Epoch, 0), HeraldTransport.Stream);
        foreach (var line in lines)
        {
            parser.Parse(line, out var message);
            typed.Deliver(ref message, HeraldTransport.Stream);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Lines, Description = "NDJSON line -> Publication<JsonData> (raw bytes)")]
    public long Raw()
    {
        raw.Confirm(new SubscribeReply(false, Wire.Epoch, 0), HeraldTransport.Stream);
        foreach (var line in lines)
        {
            parser.Parse(line, out var message);
            raw.Deliver(ref message, HeraldTransport.Stream);
        }

        return sum;
    }

    [Benchmark(OperationsPerInvoke = Lines, Description = "WebSocket frame of 32 -> Publication<ChatLine>")]
    public long TypedFrames()
    {
        typed.Confirm(new SubscribeReply(false, Wire.Epoch, 0), HeraldTransport.WebSocket);
        foreach (var frame in frames)
        {
            ReadOnlySpan<byte> rest = frame;
            while (!rest.IsEmpty)
            {
                var newline = rest.IndexOf((byte)'\n');
                var line = newline < 0 ? rest : rest[..newline];
                rest = newline < 0 ? [] : rest[(newline + 1)..];
                parser.Parse(line, out var message);
                typed.Deliver(ref message, HeraldTransport.WebSocket);
            }
        }

        return sum;
    }

    void SubscriptionBase.IOwner.Unsubscribe(SubscriptionBase subscription)
    {
    }

    void SubscriptionBase.IOwner.HandlerFailed(Exception exception) => throw exception;
}
