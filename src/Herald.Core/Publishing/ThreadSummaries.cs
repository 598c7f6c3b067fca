using System.Buffers;
using System.Collections.Concurrent;
using System.Text.Json;
using Herald.Auth;
using Herald.Channels;
using Herald.Engine;
using Microsoft.Extensions.Logging;

namespace Herald.Publishing;

/// <summary>
/// Publishes each thread's summary on its parent — <c>herald.thread</c>
/// <c>{"ref": root, "replies": n, "last": {"offset", "time", "from"}}</c>, from the server — after
/// the thread's messages, conflated per thread on this node: the first at once, then at most one
/// per <see cref="ChannelPolicy.ThreadSummaryInterval"/> with the newest state. One loop per thread
/// with news, none for a quiet one; stopped (and what is pending flushed) at shutdown.
/// </summary>
internal sealed partial class ThreadSummaries(
    Func<PublishRequest, CancellationToken, ValueTask<PublishResult>> publish,
    TimeProvider time,
    ILogger logger) : IAsyncDisposable
{
    /// <summary>How long shutdown waits for the summaries being published.</summary>
    private static readonly TimeSpan s_flushTimeout = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, ThreadState> _threads = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Threads with a summary loop running, for tests.</summary>
    internal int Active => _threads.Count;

    /// <summary>Called after every append: a countable publication in a thread makes its parent's summary due.</summary>
    public void OnPublished(Publication publication, ChannelPolicy policy)
    {
        if (!policy.Threads || !policy.IsCountable(publication.Type) || !ThreadChannel.TryParse(publication.Channel, out var parent, out var root))
            return;

        while (true)
        {
            var thread = _threads.GetOrAdd(publication.Channel, static (_, state) => new ThreadState(state.parent, state.root, state.interval), (parent, root, interval: policy.ThreadSummaryInterval));
            lock (thread)
            {
                if (thread.Ended)
                    continue;
                if (thread.Latest is null || publication.Offset > thread.Latest.Offset)
                    thread.Latest = publication;
                thread.Dirty = true;
                if (thread.Loop is not null)
                    return;
                thread.Loop = Task.Run(() => RunAsync(publication.Channel, thread));
                return;
            }
        }
    }

    /// <summary>Sends the newest state, waits the interval, and goes on while replies came meanwhile.</summary>
    private async Task RunAsync(string channel, ThreadState thread)
    {
        while (true)
        {
            Publication latest;
            lock (thread)
            {
                if (!thread.Dirty || (_stopping.IsCancellationRequested && thread.Flushed))
                {
                    thread.Ended = true;
                    _threads.TryRemove(new KeyValuePair<string, ThreadState>(channel, thread));
                    return;
                }

                latest = thread.Latest!;
                thread.Dirty = false;
                thread.Flushed = _stopping.IsCancellationRequested;
            }

            await SendAsync(thread, latest).ConfigureAwait(false);
            if (thread.Interval > TimeSpan.Zero && !_stopping.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(thread.Interval, time, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    // Shutdown: what is pending goes now, once.
                }
            }
        }
    }

    private async Task SendAsync(ThreadState thread, Publication latest)
    {
        var request = new PublishRequest
        {
            Channel = thread.Parent,
            Caller = Caller.Server,
            Data = new ReadOnlySequence<byte>(Encode(thread.Root, latest)),
            Type = ActionTypes.Thread,
        };
        try
        {
            using var timeout = _stopping.IsCancellationRequested ? new CancellationTokenSource(s_flushTimeout) : null;
            var result = await publish(request, timeout?.Token ?? CancellationToken.None).ConfigureAwait(false);
            if (!result.Succeeded)
                Log.SummaryFailed(logger, thread.Parent, thread.Root, result.Message);
        }
#pragma warning disable CA1031 // A summary that fails is logged; the thread's next message publishes a newer one.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.SummaryFailed(logger, thread.Parent, thread.Root, e.Message);
        }
    }

    /// <summary>The summary's data: <c>{"ref", "replies", "last": {"offset", "time", "from"?}}</c>.</summary>
    internal static byte[] Encode(long root, Publication latest)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("ref"u8, root);

            // The thread's countable ordinal: its messages, not its edits and reactions.
            writer.WriteNumber("replies"u8, latest.N);
            writer.WriteStartObject("last"u8);
            writer.WriteNumber("offset"u8, latest.Offset);
            writer.WriteString("time"u8, latest.Time.UtcDateTime);
            if (latest.From is not null)
                writer.WriteString("from"u8, latest.From);
            writer.WriteEndObject();
            writer.WriteEndObject();
        }

        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Stops the loops: each publishes what it holds once more, then ends.</summary>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        var loops = _threads.Values.Select(t => t.Loop).OfType<Task>().ToArray();
        await Task.WhenAll(loops).WaitAsync(s_flushTimeout + s_flushTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private sealed class ThreadState(string parent, long root, TimeSpan interval)
    {
        public string Parent { get; } = parent;

        public long Root { get; } = root;

        public TimeSpan Interval { get; } = interval;

        /// <summary>The newest countable publication of the thread seen on this node.</summary>
        public Publication? Latest { get; set; }

        /// <summary>Something came since the last summary was taken.</summary>
        public bool Dirty { get; set; }

        public Task? Loop { get; set; }

        /// <summary>The shutdown's last summary was taken.</summary>
        public bool Flushed { get; set; }

        /// <summary>The loop ended and the entry left the map: a newcomer makes a new one.</summary>
        public bool Ended { get; set; }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2010, Level = LogLevel.Warning, EventName = "ThreadSummaryFailed",
            Message = "The summary of the thread of offset {Root} of '{Parent}' was not published ({Failure}); the thread's next message publishes a newer one.")]
        public static partial void SummaryFailed(ILogger logger, string parent, long root, string failure);
    }
}
