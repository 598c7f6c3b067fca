namespace Herald.LoadGen.Wire;

/// <summary>What a protocol does with one record (a JSON message, an SSE line, a Socket.IO packet).</summary>
internal interface IRecordSink
{
    void OnRecord(ReadOnlySpan<byte> record, long now);
}

/// <summary>
/// Splits a byte stream into records at <paramref name="delimiter"/>, in place wherever a record
/// lies whole in the received bytes; only a record cut by the end of a read is copied (into a small
/// carry buffer). With <paramref name="messageEndsRecord"/>, the end of a message (a WebSocket
/// message, an HTTP body) also ends a record.
/// </summary>
internal sealed class RecordSplitter(byte delimiter, bool messageEndsRecord)
{
    private byte[] _carry = [];
    private int _carried;

    public void Feed(ReadOnlySpan<byte> data, bool messageEnd, IRecordSink sink, long now)
    {
        if (_carried > 0)
        {
            var at = data.IndexOf(delimiter);
            if (at < 0)
            {
                Carry(data);
                if (messageEnd && messageEndsRecord)
                    Flush(sink, now);
                return;
            }

            Carry(data[..at]);
            Flush(sink, now);
            data = data[(at + 1)..];
        }

        while (true)
        {
            var at = data.IndexOf(delimiter);
            if (at < 0)
                break;
            if (at > 0)
                sink.OnRecord(data[..at], now);
            data = data[(at + 1)..];
        }

        if (data.IsEmpty)
            return;
        if (messageEnd && messageEndsRecord)
            sink.OnRecord(data, now);
        else
            Carry(data);
    }

    private void Carry(ReadOnlySpan<byte> data)
    {
        if (_carried + data.Length > _carry.Length)
            Array.Resize(ref _carry, Math.Max(256, Math.Max(_carry.Length * 2, _carried + data.Length)));
        data.CopyTo(_carry.AsSpan(_carried));
        _carried += data.Length;
    }

    private void Flush(IRecordSink sink, long now)
    {
        var record = _carry.AsSpan(0, _carried);
        _carried = 0;
        if (!record.IsEmpty)
            sink.OnRecord(record, now);
    }
}
