namespace Herald.Engine.Memory;

public sealed partial class MemoryChannelLog
{
    /// <summary>One channel's ring and idempotency keys; every member is called under <c>lock (this)</c>.</summary>
    private sealed class ChannelState(string epoch)
    {
        // 16: most channels hold a handful of messages; the ring doubles up to HistorySize.
        private Publication[] ring = new Publication[16];
        private int head;
        private int count;
        private long top;
        private long n;
        private TimeSpan ttl = Retention.Default.HistoryTtl;
        private Dictionary<string, KeyEntry>? keys;
        private Queue<(string Key, DateTimeOffset Expires)>? keyExpiry;

        /// <summary>Set once the channel was removed; an appender holding this instance must fetch a new one.</summary>
        public bool Removed { get; set; }

        public StreamState State => top == 0 ? StreamState.Empty : new(epoch, top, top - count + 1, n);

        public AppendResult Append(AppendRequest request, byte[]? fingerprint, DateTimeOffset now, IPublicationSink? sink)
        {
            var retention = request.Retention;
            ttl = retention.HistoryTtl;
            ExpireKeys(now);

            var key = request.IdempotencyKey;
            if (key is not null && keys is not null && keys.TryGetValue(key, out var entry) && entry.Expires > now)
                return new AppendResult(entry.Publication, Duplicate: true, KeyReused: !IdempotencyFingerprint.Matches(entry.Fingerprint, fingerprint));

            // Milliseconds, as the SQLite store keeps them, so both stores answer the same time.
            var time = DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds());
            if (request.Countable)
                n++;
            var publication = new Publication
            {
                Channel = request.Channel,
                Offset = top + 1,
                Epoch = epoch,
                Id = Guid.CreateVersion7(time).ToString("N"),
                Time = time,
                From = request.From,
                Type = request.Type,
                Meta = request.Meta,
                Data = request.Data,
                N = n,
                Countable = request.Countable,
            };

            Push(publication, Math.Max(1, retention.HistorySize));
            top++;
            Expire(now);

            if (key is not null)
            {
                var expires = now + retention.IdempotencyWindow;
                (keys ??= new(StringComparer.Ordinal))[key] = new KeyEntry(publication, expires, fingerprint!);
                (keyExpiry ??= new()).Enqueue((key, expires));
            }

            sink?.OnPublished(publication);
            return new AppendResult(publication, Duplicate: false);
        }

        public ReadResult Read(ReadRequest request, DateTimeOffset now)
        {
            Expire(now);
            var state = State;
            if (count == 0 || request.Limit <= 0)
                return new ReadResult([], state);

            var first = top - count + 1;
            Publication[] result;
            if (!request.Reverse)
            {
                var start = Math.Max(request.After + 1, first);
                if (start > top)
                    return new ReadResult([], state);

                result = new Publication[(int)Math.Min(request.Limit, top - start + 1)];
                var index = (int)(start - first);
                for (var i = 0; i < result.Length; i++)
                    result[i] = At(index + i);
            }
            else
            {
                var end = request.After <= 0 ? top : Math.Min(request.After - 1, top);
                if (end < first)
                    return new ReadResult([], state);

                result = new Publication[(int)Math.Min(request.Limit, end - first + 1)];
                var index = (int)(end - first);
                for (var i = 0; i < result.Length; i++)
                    result[i] = At(index - i);
            }

            return new ReadResult(result, state);
        }

        /// <summary>Drops publications older than the channel's TTL; they are at the head, appends come in time order.</summary>
        public void Expire(DateTimeOffset now)
        {
            while (count > 0 && ring[head].Time + ttl <= now)
                DropOldest();
        }

        private void Push(Publication publication, int historySize)
        {
            while (count >= historySize)
                DropOldest();

            if (count == ring.Length)
                Grow(historySize);

            ring[(head + count) % ring.Length] = publication;
            count++;
        }

        private void Grow(int historySize)
        {
            var bigger = new Publication[Math.Min(ring.Length * 2, Math.Max(historySize, ring.Length + 1))];
            for (var i = 0; i < count; i++)
                bigger[i] = At(i);

            ring = bigger;
            head = 0;
        }

        private void DropOldest()
        {
            ring[head] = null!;
            head = (head + 1) % ring.Length;
            count--;
        }

        private Publication At(int index) => ring[(head + index) % ring.Length];

        private void ExpireKeys(DateTimeOffset now)
        {
            if (keyExpiry is null || keys is null)
                return;

            while (keyExpiry.TryPeek(out var oldest) && oldest.Expires <= now)
            {
                keyExpiry.Dequeue();
                // The key may have been reused after expiring: remove only the entry this queue item stands for.
                if (keys.TryGetValue(oldest.Key, out var entry) && entry.Expires == oldest.Expires)
                    keys.Remove(oldest.Key);
            }
        }

        private readonly record struct KeyEntry(Publication Publication, DateTimeOffset Expires, byte[] Fingerprint);
    }
}
