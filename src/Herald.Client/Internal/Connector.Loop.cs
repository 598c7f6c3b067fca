using Herald.Client.Transports;

namespace Herald.Client.Internal;

/// <summary>The connection loop: attempt, run, decide, wait, again.</summary>
internal sealed partial class Connector
{
    private async Task RunAsync()
    {
        var stop = lifetime.Token;
        var attempted = false;
        var quiet = false;
        var delay = TimeSpan.Zero;
        var final = false;
        var terminal = false;
        while (!stop.IsCancellationRequested)
        {
            var woken = NextWake();
            if (delay > TimeSpan.Zero || final)
            {
                // Only an explicit reconnect (or the end) cuts a backoff wait short; after a close the
                // protocol says not to retry, any change (a new subscription, a reconnect) starts again —
                // but after a terminal one (3503: the user was disconnected) only a reconnect does.
                await WaitAsync(final ? Timeout.InfiniteTimeSpan : delay, final && !terminal).ConfigureAwait(false);
                delay = TimeSpan.Zero;
                final = terminal = false;
                continue;
            }

            lock (gate)
                reconnectRequested = false;
            if (!hooks.WantsConnection)
            {
                await IdleAsync(woken).ConfigureAwait(false);
                quiet = false;
                continue;
            }

            HeraldTransport transport;
            lock (gate)
                current = transport = planner.Transport;
            if (!quiet)
            {
                int attempt;
                lock (gate)
                    attempt = ++attempts;
                SetState(ConnectionState.Connecting);
                hooks.OnConnecting(new ConnectingEvent(transport, attempt));
            }

            // Every attempt but the first fetches a fresh token: the old one may have expired
            // meanwhile. A quiet reconnect (a new channel set) follows an open connection and keeps it.
            string? token;
            try
            {
                token = attempted && !quiet
                    ? await http.Credentials.RefreshAsync(stop).ConfigureAwait(false)
                    : await http.Credentials.CurrentAsync(stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                break;
            }
            catch (HeraldException e)
            {
                hooks.OnError(e);
                Attempt retry;
                lock (gate)
                    retry = planner.OpenFailed(serverReachable: false);
                delay = Disconnected(transport, new SessionEnd(e.Message, Error: e), retry);
                quiet = false;
                continue;
            }

            attempted = true;
            using var next = Create(transport, token);
            using var drop = CancellationTokenSource.CreateLinkedTokenSource(stop);
            lock (gate)
            {
                session = next;
                dropSession = drop;
            }

            SessionEnd end;
            try
            {
                end = await next.RunAsync(drop.Token).ConfigureAwait(false);
            }
            finally
            {
                lock (gate)
                {
                    session = null;
                    dropSession = null;
                }
            }

            if (stop.IsCancellationRequested)
                break;
            if (drop.IsCancellationRequested)
            {
                // Reconnect() or SetTransports(): the next attempt starts at once, on the planner's transport.
                quiet = false;
                continue;
            }
            if (end.Resync)
            {
                quiet = true;
                continue;
            }

            quiet = false;
            if (next.IsOpen)
            {
                if (end.Final)
                {
                    Disconnected(transport, end, null);
                    final = true;
                    terminal = end.Terminal;
                    continue;
                }

                Attempt retry;
                lock (gate)
                    retry = planner.Closed(Polyfills.NowMs(), end.Explained);
                delay = Disconnected(transport, end, retry);
                continue;
            }

            var decision = await OpenFailedAsync(end, stop).ConfigureAwait(false);
            if (decision is null)
            {
                quiet = true; // retry at once, quietly: a refreshed token, or without the refused channels
                continue;
            }

            delay = Disconnected(transport, end, decision.Value);
        }
    }

    /// <summary>Reports a disconnect and returns how long to wait before the planner's next attempt.</summary>
    private TimeSpan Disconnected(HeraldTransport transport, SessionEnd end, Attempt? next)
    {
        lock (gate)
            current = next?.Transport ?? transport;
        SetState(ConnectionState.Disconnected);
        hooks.OnDisconnected(new DisconnectedEvent(transport, end.Reason, end.Code, next?.Delay));
        return next?.Delay ?? TimeSpan.Zero;
    }

    /// <summary>The transport did not open: refresh a refused token once, drop refused channels, or ask the planner.</summary>
    private async Task<Attempt?> OpenFailedAsync(SessionEnd end, CancellationToken stop)
    {
        var error = end.Error;
        if (error?.Status is not null && ChannelRefusals.Contains(error.Code))
        {
            bool retryAuth;
            lock (gate)
            {
                retryAuth = error.Code != "invalid_channel" && http.Credentials.Refreshable && !authRetried;
                authRetried |= retryAuth;
            }

            // A refused token may just have expired: one more try with a fresh one.
            if (retryAuth)
            {
                try
                {
                    await http.Credentials.RefreshAsync(stop).ConfigureAwait(false);
                }
                catch (HeraldException e)
                {
                    hooks.OnError(e);
                }

                return null;
            }

            // One refused channel must not keep the others from connecting: find it, drop it, go on.
            var removed = await hooks.RemoveRefusedAsync(hooks.Channels, stop).ConfigureAwait(false);
            if (removed > 0)
                return null;
        }

        var reachable = error?.Status is not null || await http.ServerAnswersAsync(stop).ConfigureAwait(false);
        lock (gate)
            return planner.OpenFailed(reachable);
    }

    private async Task IdleAsync(Task woken)
    {
        if (State == ConnectionState.Connected)
            hooks.OnDisconnected(new DisconnectedEvent(Transport, "no subscriptions", null, null));
        lock (gate)
            current = null;
        SetState(ConnectionState.Disconnected);
        await Task.WhenAny(woken, Task.Delay(Timeout.Infinite, lifetime.Token)).ConfigureAwait(false);
    }

    private async Task WaitAsync(TimeSpan delay, bool anyWake)
    {
        while (true)
        {
            Task woken;
            lock (gate)
            {
                if (reconnectRequested || lifetime.IsCancellationRequested)
                    return;
                woken = wake.Task;
            }

            var timer = Task.Delay(delay, lifetime.Token);
            var first = await Task.WhenAny(woken, timer).ConfigureAwait(false);
            if (first == timer || anyWake)
                return;
        }
    }
}
