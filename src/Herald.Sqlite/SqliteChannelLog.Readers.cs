using System.Collections.Concurrent;
using Herald.Engine;
using Microsoft.Data.Sqlite;

namespace Herald.Sqlite;

public sealed partial class SqliteChannelLog
{
    private readonly ConcurrentQueue<ReadConnection> readers = new();
    private int pooledReaders;

    private ReadConnection RentReader()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
        if (readers.TryDequeue(out var reader))
        {
            Interlocked.Decrement(ref pooledReaders);
            return reader;
        }

        return new ReadConnection(Open(writable: false));
    }

    private void ReturnReader(ReadConnection reader)
    {
        if (Volatile.Read(ref disposed) == 0 && Interlocked.Increment(ref pooledReaders) <= options.MaxPooledReaders)
        {
            readers.Enqueue(reader);
            // DisposeAsync may have drained the pool between the check and the enqueue.
            if (Volatile.Read(ref disposed) != 0 && readers.TryDequeue(out var late))
                late.Dispose();

            return;
        }

        Interlocked.Decrement(ref pooledReaders);
        reader.Dispose();
    }

    /// <summary>A read connection with its prepared statements. Each read is one snapshot (a deferred read transaction).</summary>
    private sealed class ReadConnection : IDisposable
    {
        private readonly SqliteConnection connection;
        private readonly SqliteCommand begin;
        private readonly SqliteCommand end;
        private readonly SqliteCommand ping;
        private readonly SqliteCommand selectChannel;
        private readonly SqliteParameter[] selectChannelParameters;
        private readonly SqliteCommand selectFirst;
        private readonly SqliteParameter[] selectFirstParameters;
        private readonly SqliteCommand forward;
        private readonly SqliteParameter[] forwardParameters;
        private readonly SqliteCommand reverse;
        private readonly SqliteParameter[] reverseParameters;
        private readonly SqliteCommand selectStates;
        private readonly SqliteParameter[] selectStatesParameters;

        public ReadConnection(SqliteConnection connection)
        {
            this.connection = connection;
            begin = Prepare(connection, "BEGIN", out _);
            end = Prepare(connection, "COMMIT", out _);
            ping = Prepare(connection, "SELECT 1", out _);
            selectChannel = Prepare(connection, SelectChannelSql, out selectChannelParameters, "$channel");
            selectFirst = Prepare(connection, SelectFirstSql, out selectFirstParameters, "$channel", "$low", "$cutoff");
            forward = Prepare(connection, ReadForwardSql, out forwardParameters, "$channel", "$after", "$cutoff", "$limit");
            reverse = Prepare(connection, ReadReverseSql, out reverseParameters, "$channel", "$before", "$cutoff", "$limit", "$low");
            selectStates = Prepare(connection, SelectStatesSql, out selectStatesParameters, "$names", "$now");
            // TEXT, not BLOB: json_each reads a BLOB as SQLite's binary JSONB.
            selectStatesParameters[0].SqliteType = SqliteType.Text;
        }

        public bool Ping() => ping.ExecuteScalar() is long one && one == 1;

        public StreamState GetState(string channel, long nowMs)
        {
            begin.ExecuteNonQuery();
            try
            {
                return State(channel, nowMs, out _, out _, out _);
            }
            finally
            {
                end.ExecuteNonQuery();
            }
        }

        /// <summary>Many channels' states in one statement (unread counts read hundreds at once).</summary>
        public StreamState[] GetStates(IReadOnlyList<string> channels, long nowMs)
        {
            var states = new StreamState[channels.Count];
            Array.Fill(states, StreamState.Empty);
            if (channels.Count == 0)
                return states;

            var found = new Dictionary<string, StreamState>(channels.Count, StringComparer.Ordinal);
            selectStatesParameters[0].Value = System.Text.Json.JsonSerializer.Serialize(channels, SqliteJsonContext.Default.IReadOnlyListString);
            selectStatesParameters[1].Value = nowMs;
            using (var row = selectStates.ExecuteReader())
            {
                while (row.Read())
                {
                    var top = row.GetInt64(2);
                    found[row.GetString(0)] = new StreamState(row.GetString(1), top, row.IsDBNull(4) ? top + 1 : row.GetInt64(4), row.GetInt64(3));
                }
            }

            for (var i = 0; i < states.Length; i++)
            {
                if (found.TryGetValue(channels[i], out var state))
                    states[i] = state;
            }

            return states;
        }

        public ReadResult Read(string channel, ReadRequest request, long nowMs)
        {
            begin.ExecuteNonQuery();
            try
            {
                var state = State(channel, nowMs, out var exists, out var cutoff, out var low);
                if (!exists || request.Limit <= 0)
                    return new ReadResult([], state);

                SqliteCommand command;
                SqliteParameter[] parameters;
                if (request.Reverse)
                {
                    command = reverse;
                    parameters = reverseParameters;
                    parameters[1].Value = request.After <= 0 ? long.MaxValue : request.After;
                    parameters[4].Value = low;
                }
                else
                {
                    if (request.After >= state.Top)
                        return new ReadResult([], state);

                    command = forward;
                    parameters = forwardParameters;
                    parameters[1].Value = Math.Max(request.After, low);
                }

                parameters[0].Value = channel;
                parameters[2].Value = cutoff;
                parameters[3].Value = request.Limit;

                // 256: a cap on the guess, not on the read; a history page is usually small.
                var publications = new List<Publication>(Math.Min(request.Limit, 256));
                using (var row = command.ExecuteReader())
                {
                    while (row.Read())
                        publications.Add(ReadPublication(row, channel, state.Epoch, 0));
                }

                return new ReadResult(publications, state);
            }
            finally
            {
                end.ExecuteNonQuery();
            }
        }

        private StreamState State(string channel, long nowMs, out bool exists, out long cutoff, out long low)
        {
            selectChannelParameters[0].Value = channel;
            string epoch;
            long top;
            long n;
            using (var row = selectChannel.ExecuteReader())
            {
                exists = row.Read();
                if (!exists)
                {
                    cutoff = 0;
                    low = 0;
                    return StreamState.Empty;
                }

                epoch = row.GetString(0);
                top = row.GetInt64(1);
                cutoff = nowMs - row.GetInt64(2);
                low = top - row.GetInt64(3);
                n = row.GetInt64(4);
            }

            selectFirstParameters[0].Value = channel;
            selectFirstParameters[1].Value = low;
            selectFirstParameters[2].Value = cutoff;
            var first = selectFirst.ExecuteScalar() is long oldest ? oldest : top + 1;
            return new StreamState(epoch, top, first, n);
        }

        public void Dispose()
        {
            begin.Dispose();
            end.Dispose();
            ping.Dispose();
            selectChannel.Dispose();
            selectFirst.Dispose();
            forward.Dispose();
            reverse.Dispose();
            selectStates.Dispose();
            connection.Dispose();
        }
    }
}
