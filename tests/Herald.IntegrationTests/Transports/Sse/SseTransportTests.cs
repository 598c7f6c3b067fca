namespace Herald.IntegrationTests.Transports.Sse;

public sealed class SseTransportTests : PushTransportTests
{
    protected override string Transport => "sse";
}
