using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Herald.Hub;
using Herald.Transports.WebSocket;

namespace Herald.Tests.Transports;

public sealed class PipeFrameWriterTests
{
    [Theory]
    [InlineData(0, 2)]
    [InlineData(1, 2)]
    [InlineData(125, 2)]
    [InlineData(126, 4)]
    [InlineData(65_535, 4)]
    [InlineData(65_536, 10)]
    [InlineData(300_000, 10)]
    public void One_message_is_one_unmasked_final_text_frame_with_the_shortest_length_encoding(int length, int headerLength)
    {
        var payload = Enumerable.Range(0, length).Select(i => (byte)('a' + i % 26)).ToArray();
        var output = new ArrayBufferWriter<byte>();

        PipeFrameWriter.WriteFrames(output, [new OutboundMessage(payload)]);

        var frames = Parse(output.WrittenSpan);
        var frame = Assert.Single(frames);
        Assert.Equal(headerLength, frame.HeaderLength);
        Assert.Equal(payload, frame.Payload);
    }

    [Fact]
    public void A_batch_becomes_one_frame_of_messages_joined_by_newlines()
    {
        var output = new ArrayBufferWriter<byte>();

        PipeFrameWriter.WriteFrames(output, [Message("{\"a\":1}"), Message("{\"b\":2}"), Message("{\"c\":3}")]);

        var frame = Assert.Single(Parse(output.WrittenSpan));
        Assert.Equal("{\"a\":1}\n{\"b\":2}\n{\"c\":3}", Encoding.UTF8.GetString(frame.Payload));
    }

    [Fact]
    public void Frames_stop_at_64_KiB_and_a_bigger_message_goes_alone()
    {
        var small = new string('s', 30_000);
        var big = new string('B', 70_000);
        var output = new ArrayBufferWriter<byte>();

        // 30,000 + 1 + 30,000 fits; a third would not; the big one is alone; then the last two share one.
        PipeFrameWriter.WriteFrames(output, [Message(small), Message(small), Message(small), Message(big), Message(small), Message("x")]);

        var payloads = Parse(output.WrittenSpan).Select(f => Encoding.UTF8.GetString(f.Payload)).ToList();
        Assert.Equal([small + "\n" + small, small, big, small + "\nx"], payloads);
        Assert.All(payloads.Where(p => p != big), p => Assert.True(p.Length <= PipeFrameWriter.FrameTargetBytes));
    }

    [Fact]
    public async Task Raw_writes_and_batches_reach_the_pipe_whole_and_in_order()
    {
        var pipe = new Pipe();
        var writer = new PipeFrameWriter(pipe.Writer);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var pong = new byte[] { 0x8A, 0x00 };

        var writes = Enumerable.Range(0, 200).Select(i => i % 2 == 0
            ? writer.WriteAsync([Message($"{{\"n\":{i}}}"), Message($"{{\"m\":{i}}}")], timeout.Token).AsTask()
            : Task.Run(() => writer.WriteRawAsync(pong, timeout.Token).AsTask())).ToArray();
        await Task.WhenAll(writes).WaitAsync(timeout.Token);
        await pipe.Writer.CompleteAsync();

        var bytes = new List<byte>();
        while (true)
        {
            var read = await pipe.Reader.ReadAsync(timeout.Token);
            bytes.AddRange(read.Buffer.ToArray());
            pipe.Reader.AdvanceTo(read.Buffer.End);
            if (read.IsCompleted)
                break;
        }

        var frames = Parse(bytes.ToArray());
        Assert.Equal(100, frames.Count(f => f.Opcode == 0xA));
        var texts = frames.Where(f => f.Opcode == 0x1).Select(f => Encoding.UTF8.GetString(f.Payload)).ToList();
        Assert.Equal(100, texts.Count);
        Assert.All(texts, t => Assert.Matches("""^\{"n":(\d+)\}\n\{"m":\1\}$""", t));
    }

    private static OutboundMessage Message(string text) => new(Encoding.UTF8.GetBytes(text));

    private sealed record Frame(int Opcode, int HeaderLength, byte[] Payload);

    /// <summary>Parses server frames (RFC 6455 §5.2), checking FIN is set and nothing is masked.</summary>
    private static List<Frame> Parse(ReadOnlySpan<byte> bytes)
    {
        var frames = new List<Frame>();
        while (!bytes.IsEmpty)
        {
            Assert.Equal(0x80, bytes[0] & 0xF0);
            Assert.Equal(0, bytes[1] & 0x80);
            var length = (long)(bytes[1] & 0x7F);
            var header = 2;
            if (length == 126)
            {
                length = BinaryPrimitives.ReadUInt16BigEndian(bytes[2..]);
                header = 4;
                Assert.True(length >= 126, "a 16-bit length must be needed");
            }
            else if (length == 127)
            {
                length = (long)BinaryPrimitives.ReadUInt64BigEndian(bytes[2..]);
                header = 10;
                Assert.True(length > ushort.MaxValue, "a 64-bit length must be needed");
            }

            frames.Add(new Frame(bytes[0] & 0x0F, header, bytes.Slice(header, (int)length).ToArray()));
            bytes = bytes[(header + (int)length)..];
        }

        return frames;
    }
}
