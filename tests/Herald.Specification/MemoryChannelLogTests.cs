using Herald.Engine;
using Herald.Engine.Memory;

namespace Herald.Specification;

public sealed class MemoryChannelLogTests : ChannelLogSpec<MemoryChannelLog>
{
    protected override MemoryChannelLog CreateLog(IPublicationSink sink, TimeProvider time) => new(sink, time);

    [Fact]
    public async Task A_new_instance_gives_a_channel_a_new_epoch_because_history_was_lost()
    {
        var before = NewLog();
        var old = (await Append(before, Message("chat:a", "1"))).Publication;
        await before.DisposeAsync().AsTask().WaitAsync(Timeout);

        var after = NewLog();
        var fresh = (await Append(after, Message("chat:a", "1"))).Publication;

        Assert.Equal(1, fresh.Offset);
        Assert.NotEqual(old.Epoch, fresh.Epoch);
    }
}
