namespace Herald.IntegrationTests.Transports.Stream;

public sealed class StreamTransportTests : PushTransportTests
{
    protected override string Transport => "stream";
}
