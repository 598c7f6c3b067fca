using Herald.Transports.WebSocket;

namespace Herald.Tests.Transports;

public sealed class InboundFrameGuardTests
{
    private const int Limit = 1000;

    [Fact]
    public void Message_announced_over_the_limit_on_its_first_header_is_refused()
    {
        var guard = new InboundFrameGuard(Limit);
        guard.Inspect([0x81, 0x80 | 126, 0x03, 0xE9, 1, 2, 3, 4]); // text, masked, 1001 bytes
        Assert.True(guard.Refuses(1));
    }

    [Fact]
    public void Fragments_that_add_up_to_the_limit_pass()
    {
        var guard = new InboundFrameGuard(Limit);
        guard.Inspect([0x01, 0x80 | 126, 0x01, 0xF4, 1, 2, 3, 4, .. new byte[500]]); // text, not final, 500
        guard.Inspect([0x80, 0x80 | 126, 0x01, 0xF4, 1, 2, 3, 4, .. new byte[500]]); // continuation, final, 500
        Assert.Equal(long.MaxValue, guard.ExceededAt);
        Assert.Equal(1, guard.MessagesStarted);
    }

    /// <summary>
    /// Found by the ws-frames fuzz target: a continuation frame announcing a 64-bit length with its
    /// top bit set made the message's running total wrap negative, so the guard let it pass.
    /// </summary>
    [Fact]
    public void Continuation_frame_announcing_2_to_the_63_bytes_is_refused_on_its_header()
    {
        var guard = new InboundFrameGuard(Limit);
        guard.Inspect([0x05, 0x82, 0x7F, 0x64, 0x03, 0x1D, 0x1D, 0x21]); // a data frame of 2 bytes, not final
        guard.Inspect([0x80, 0x7F, 0xFF, 0xFF, 0x82, 0xE1, 0x00, 0x00, 0x01, 0x00]); // continuation, 64-bit length, top bit set
        Assert.True(guard.Refuses(1));
        Assert.Equal(1, guard.ExceededAt);
    }
}
