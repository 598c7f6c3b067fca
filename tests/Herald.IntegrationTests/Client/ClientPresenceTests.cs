using System.Collections.Concurrent;
using Herald.Client;
using Herald.IntegrationTests.Transports.WebSocket;

namespace Herald.IntegrationTests.Client;

/// <summary>Presence, typing and signals through <see cref="HeraldClient"/> against a real server.</summary>
public sealed class ClientPresenceTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private TestServer server = null!;

    public async Task InitializeAsync() => server = await TestServer.StartAsync(store: "memory", settings: new Dictionary<string, string?>
    {
        ["Herald:Auth:HmacSecret"] = Tokens.Secret,
        ["Herald:Namespaces:room:Presence"] = "List",
        ["Herald:Namespaces:room:Typing"] = "true",
        ["Herald:Namespaces:room:Signals"] = "true",
        ["Herald:Namespaces:room:PresenceDiffInterval"] = "00:00:00",
    });

    public async Task DisposeAsync() => await server.DisposeAsync();

    [Theory]
    [InlineData(HeraldTransport.WebSocket)]
    [InlineData(HeraldTransport.Sse)]
    public async Task A_list_subscriber_sees_joins_and_leaves_and_resumes_its_list_after_a_reconnect(HeraldTransport transport)
    {
        var channel = Clients.FreshChannel("room");
        var states = new ConcurrentQueue<string>();
        var all = new ConcurrentQueue<string>();
        await using var alice = Clients.Create(server.BaseAddress, [transport], o =>
        {
            o.Token = Tokens.Mint("alice");
            o.WireObserver = (_, line) =>
            {
                var text = System.Text.Encoding.UTF8.GetString(line);
                all.Enqueue(text);
                if (text.Contains("\"presence_state\"", StringComparison.Ordinal))
                    states.Enqueue(text);
            };
        });
        var events = new ConcurrentQueue<PresenceEvent>();
        var room = alice.Subscribe(channel, new SubscribeOptions { Presence = PresenceMode.List });
        room.PresenceChanged += (_, e) => events.Enqueue(e);
        await room.WaitSubscribedAsync().WaitAsync(Timeout);
        await Clients.Until(() => Users(room).SequenceEqual(["alice"]), Timeout, () => $"alice listed: {string.Join(",", Users(room))}");

        await using var bob = Clients.Create(server.BaseAddress, [HeraldTransport.WebSocket], o => o.Token = Tokens.Mint("bob"));
        var bobRoom = await bob.SubscribeAsync(channel, new SubscribeOptions { Presence = PresenceMode.Enter }).WaitAsync(Timeout);
        await Clients.Until(() => Users(room).SequenceEqual(["alice", "bob"]), Timeout, () => $"bob joined: {string.Join(",", Users(room))}");
        // The list changes before the event is raised (on the client's receive loop): wait for the event too.
        await Clients.Until(() => events.Any(e => e.Joined.Any(m => m.User == "bob")), Timeout, () => "the event of bob's join");
        var position = room.Presence!.Position;
        Assert.NotNull(position);

        // A reconnect resumes from the list's position (recovered: the diffs after it, no snapshot), and the list goes on.
        alice.Reconnect();
        await Clients.Until(() => states.Count == 2, Timeout, () => $"the presence_state of the new connection: {string.Join(" | ", all)}");
        Assert.Contains("\"recovered\":true", states.Last(), StringComparison.Ordinal);
        bobRoom.Unsubscribe();
        await Clients.Until(() => Users(room).SequenceEqual(["alice"]), Timeout, () => $"bob left: {string.Join(",", Users(room))}");
        Assert.Equal(position.Epoch, room.Presence.Position!.Epoch);
        Assert.True(room.Presence.Position.Seq > position.Seq);
        await Clients.Until(() => events.Any(e => e.Left.Any(m => m.User == "bob")), Timeout, () => "the event of bob's leave");
    }

    [Fact]
    public async Task Typing_and_signals_go_out_over_the_WebSocket_and_reach_the_other_subscribers()
    {
        var channel = Clients.FreshChannel("room");
        await using var alice = Clients.Create(server.BaseAddress, [HeraldTransport.WebSocket], o => o.Token = Tokens.Mint("alice"));
        await using var bob = Clients.Create(server.BaseAddress, [HeraldTransport.WebSocket], o => o.Token = Tokens.Mint("bob"));
        var aliceRoom = await alice.SubscribeAsync(channel).WaitAsync(Timeout);
        var bobRoom = await bob.SubscribeAsync(channel).WaitAsync(Timeout);
        Assert.Equal(TimeSpan.FromSeconds(5), bobRoom.Typing?.Resend);
        var typing = new ConcurrentQueue<TypingEvent>();
        var signals = new ConcurrentQueue<SignalEvent>();
        aliceRoom.TypingChanged += (_, e) => typing.Enqueue(e);
        aliceRoom.SignalReceived += (_, e) => signals.Enqueue(e);

        Assert.Null(await bob.TypingAsync(channel).WaitAsync(Timeout));
        await Clients.Until(() => typing.Any(e => e.Users.SequenceEqual(["bob"])), Timeout, () => "bob typing");
        await bob.TypingAsync(channel, typing: false).WaitAsync(Timeout);
        await Clients.Until(() => typing.LastOrDefault()?.Total == 0, Timeout, () => "bob stopped");

        await bob.SignalAsync(channel, "wave", JsonData.Parse("""{"hand":"left"}""")).WaitAsync(Timeout);
        await Clients.Until(() => !signals.IsEmpty, Timeout, () => "the signal");
        var signal = signals.Single();
        Assert.Equal((channel, "wave", "bob", """{"hand":"left"}"""), (signal.Channel, signal.Name, signal.From, signal.Data.ToString()));

        // Over HTTP the answer carries the timings.
        await using var carol = Clients.Create(server.BaseAddress, [HeraldTransport.LongPoll], o => o.Token = Tokens.Mint("carol"));
        var timings = await carol.TypingAsync(channel).WaitAsync(Timeout);
        Assert.Equal(TimeSpan.FromSeconds(3), timings?.Idle);
        await Clients.Until(() => typing.Any(e => e.Users.Contains("carol")), Timeout, () => "carol typing over HTTP");
    }

    private static string[] Users(SubscriptionBase subscription) => [.. subscription.Presence!.Members.Select(m => m.User)];
}
