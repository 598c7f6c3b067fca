using System.CommandLine;
using Herald.Client;

namespace Herald.Server.Commands;

/// <summary>
/// <c>herald tail &lt;channel&gt;… --transport auto|ws|sse|stream|longpoll|poll</c>: follows channels with the
/// .NET client — reconnecting with backoff and resuming exactly after a restart, a cut or an idle close —
/// and prints each publication as one JSON line, the same whatever the transport, with the cursor to
/// resume from (<c>--cursor</c>). <c>--raw</c> prints the wire instead. Status goes to stderr.
/// </summary>
internal static class TailCommand
{
    public static Command Create()
    {
        var channels = new Argument<string[]>("channel") { Description = "Channel(s), as namespace:name.", Arity = ArgumentArity.OneOrMore };
        var transport = new Option<string>("--transport", "-t")
        {
            Description = "auto (WebSocket, then SSE, streaming, long polling as the network allows), ws, sse, stream, longpoll or poll (short polling).",
            DefaultValueFactory = _ => "sse",
        };
        transport.AcceptOnlyFromAmong("auto", "ws", "sse", "stream", "poll", "longpoll");
        var cursor = new Option<string?>("--cursor") { Description = "Resume after this cursor (the \"cursor\" of a line printed by an earlier tail of the same channels)." };
        var raw = new Option<bool>("--raw") { Description = "Print every message as it came over the wire (WebSocket messages, SSE lines, NDJSON lines, poll answers)." };
        var interval = new Option<double>("--interval") { Description = "Seconds between short polls.", DefaultValueFactory = _ => 1.0 };
        var command = new Command("tail", "Follow channels: print each publication as one JSON line; reconnects and resumes by itself.")
        {
            channels, transport, cursor, raw, interval, ClientCommands.Server, ClientCommands.ApiKey, ClientCommands.Data,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var names = parse.GetValue(channels)!;
            var options = ClientCommands.CreateOptions(parse);
            options.PollInterval = TimeSpan.FromSeconds(Math.Max(parse.GetValue(interval), 0.05));
            // A person watches: come back quickly after a restart, but never hammer a server that is down.
            options.Backoff = new BackoffOptions { Initial = TimeSpan.FromMilliseconds(250), Max = TimeSpan.FromSeconds(5) };
            var name = parse.GetValue(transport)!;
            if (name != "auto" && HeraldTransports.TryParse(name, out var only))
            {
                options.Transports.Clear();
                options.Transports.Add(only);
            }

            IReadOnlyDictionary<string, Position> resume;
            try
            {
                resume = parse.GetValue(cursor) is { } token ? HeraldCursor.Decode(token, names) : new Dictionary<string, Position>();
            }
            catch (HeraldException e)
            {
                await Console.Error.WriteLineAsync($"--cursor: {e.Message}");
                return 2;
            }

            var output = new TailOutput(parse.GetValue(raw));
            if (output.Raw)
                options.WireObserver = output.Wire;
            await using var client = new HeraldClient(options);
            client.Connected += (_, e) => TailOutput.Status($"connected ({e.Transport.Name()})");
            client.Disconnected += (_, e) => TailOutput.Status(
                $"disconnected ({e.Reason})" + (e.RetryIn is { } wait ? $"; reconnecting in {wait.TotalSeconds:0.0} s" : string.Empty));
            client.Error += (_, e) => TailOutput.Status($"error: {e.Code}: {e.Message}");

            var failed = new TaskCompletionSource<HeraldException>(TaskCreationOptions.RunContinuationsAsynchronously);
            var subscriptions = new List<Subscription<JsonData>>();
            try
            {
                foreach (var channel in names)
                {
                    var subscription = client.Subscribe(channel, new SubscribeOptions { Since = resume.TryGetValue(channel, out var at) ? at : null });
                    subscription.Failed += (_, e) => failed.TrySetResult(e);
                    // Said once the server holds the subscription: from here on nothing published is missed.
                    subscription.Subscribed += (_, e) => TailOutput.Status(
                        $"subscribed {channel} ({e.Transport.Name()}) at {e.Position.Epoch}:{e.Position.Offset}{(e.Recovered ? string.Empty : " (reset)")}");
                    subscription.Reset += (_, e) => TailOutput.Status(
                        $"reset {channel}: {(e.Previous is { } p ? $"{p.Epoch}:{p.Offset}" : "-")} is gone; continuing after {e.Position.Epoch}:{e.Position.Offset}");
                    subscriptions.Add(subscription);
                }
            }
            catch (HeraldException e)
            {
                await Console.Error.WriteLineAsync($"{e.Code}: {e.Message}");
                return 1;
            }

            // Printing starts once every channel is subscribed: a subscription holds what arrives until
            // its first handler, and each line's cursor names every channel of this tail.
            SubscriptionBase[] all = [.. subscriptions];
            foreach (var subscription in subscriptions)
                subscription.Received += (_, p) => output.Publication(p, all);

            try
            {
                var error = await failed.Task.WaitAsync(cancellationToken);
                await Console.Error.WriteLineAsync($"{error.Code}: {error.Message}");
                return 1;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 0;
            }
            finally
            {
                if (TailOutput.Cursor(subscriptions) is { } last)
                    TailOutput.Status($"resume with: --cursor {last}");
            }
        });
        return command;
    }
}
