using Herald.Reading;

namespace Herald.Specification;

public sealed class MemoryReadStateStoreTests : ReadStateStoreSpec
{
    protected override Task<IReadStateStore> CreateAsync() => Task.FromResult<IReadStateStore>(new MemoryReadStateStore());
}
