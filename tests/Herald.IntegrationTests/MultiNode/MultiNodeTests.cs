using Herald.Engine.Memory;
using Herald.Redis;
using Herald.Testing;

namespace Herald.IntegrationTests.MultiNode;

public sealed class BackplaneMultiNodeTests : MultiNodeSpec
{
    private readonly MemoryBackplane _backplane = new(seed: 11);

    protected override Task<(string Store, Dictionary<string, string?> Settings, Action<IHeraldBuilder>? Engine)> ClusterAsync() =>
        Task.FromResult<(string, Dictionary<string, string?>, Action<IHeraldBuilder>?)>(("memory", [], b => b.UseMemoryBackplane(_backplane)));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _backplane.DisposeAsync();
    }

    [Fact]
    public async Task A_backplane_that_loses_and_repeats_one_message_in_a_hundred_loses_and_repeats_nothing_for_the_subscribers()
    {
        string[] channels = ["chat:a", "chat:b"];
        await SubscribeEverywhereAsync(channels);
        _backplane.DropRate = 0.01;
        _backplane.DuplicateRate = 0.01;
        _backplane.ReorderRate = 0.01;

        var published = await PublishOnRandomNodesAsync(channels, perChannel: 300);

        await AssertEveryoneGotExactlyAsync(published);
        Assert.True(_backplane.Dropped > 0 && _backplane.Duplicated > 0, $"faults: {_backplane.Dropped} dropped, {_backplane.Duplicated} duplicated");
    }
}

public sealed class RedisMultiNodeTests : MultiNodeSpec
{
    private RedisServer? _redis;

    protected override async Task<(string Store, Dictionary<string, string?> Settings, Action<IHeraldBuilder>? Engine)> ClusterAsync()
    {
        _redis = await RedisServer.StartAsync("always");
        return ("redis", new Dictionary<string, string?> { ["Herald:Redis:Configuration"] = _redis.Configuration }, null);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_redis is not null)
            await _redis.DisposeAsync();
    }
}
