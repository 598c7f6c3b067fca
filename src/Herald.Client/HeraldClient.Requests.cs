using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Herald.Client.Internal;

namespace Herald.Client;

/// <summary>Publish and history: over the open WebSocket when there is one, else plain HTTP.</summary>
public sealed partial class HeraldClient
{
    /// <summary>
    /// Appends <paramref name="data"/> to a channel and returns its position once committed. A publish whose
    /// answer is lost (timeout, cut connection, 5xx) is retried with the same idempotency key, so it is never
    /// appended twice. Goes over the open WebSocket, else <c>POST /v1/channels/{channel}/messages</c>.
    /// </summary>
    public Task<PublishResult> PublishAsync<T>(string channel, T data, JsonTypeInfo<T> typeInfo, PublishOptions? options = null, CancellationToken cancellationToken = default) =>
        PublishAsync(channel, JsonData.From(data, typeInfo ?? throw new ArgumentNullException(nameof(typeInfo))), options, cancellationToken);

    /// <summary>Appends <paramref name="data"/>, serialized with <see cref="HeraldClientOptions.JsonSerializerOptions"/>.</summary>
    public Task<PublishResult> PublishAsync<T>(string channel, T data, PublishOptions? options = null, CancellationToken cancellationToken = default) =>
        PublishAsync(channel, JsonData.From(data, (JsonTypeInfo<T>)this.options.JsonSerializerOptions.GetTypeInfo(typeof(T))), options, cancellationToken);

    /// <summary>Appends JSON as is (any JSON value, <c>null</c> included).</summary>
    public async Task<PublishResult> PublishAsync(string channel, JsonData data, PublishOptions? options = null, CancellationToken cancellationToken = default)
    {
        CheckOpen();
        ChannelNames.Check(channel);
        if (data.Utf8.IsEmpty)
            throw new HeraldException("bad_request", "'data' is required: any JSON value, null included.");
        var key = options?.IdempotencyKey ?? NewIdempotencyKey();
        HeraldException? last = null;
        for (var attempt = 0; attempt < this.options.PublishAttempts; attempt++)
        {
            if (attempt > 0)
                await Task.Delay(backoff.Delay(attempt - 1), cancellationToken).ConfigureAwait(false);
            try
            {
                return await PublishOnceAsync(channel, data, options?.Type, key, cancellationToken).ConfigureAwait(false);
            }
            catch (HeraldException e) when (e.IsTransient)
            {
                last = e;
            }
        }

        throw last!;
    }

    /// <summary>Reads a window of a channel's history, its data read with source-generated metadata.</summary>
    public Task<HistoryPage<T>> HistoryAsync<T>(string channel, JsonTypeInfo<T> typeInfo, HistoryOptions? options = null, CancellationToken cancellationToken = default) =>
        HistoryAsync(channel, options, DataReader<T>.For(typeInfo ?? throw new ArgumentNullException(nameof(typeInfo))), cancellationToken);

    /// <summary>Reads a window of a channel's history, its data read with <see cref="HeraldClientOptions.JsonSerializerOptions"/>.</summary>
    public Task<HistoryPage<T>> HistoryAsync<T>(string channel, HistoryOptions? options = null, CancellationToken cancellationToken = default) =>
        HistoryAsync(channel, options, DataReader<T>.For(this.options.JsonSerializerOptions), cancellationToken);

    /// <summary>Reads a window of a channel's history, data as the server sent it.</summary>
    public Task<HistoryPage<JsonData>> HistoryAsync(string channel, HistoryOptions? options = null, CancellationToken cancellationToken = default) =>
        HistoryAsync(channel, options, RawDataReader.Instance, cancellationToken);

    private async Task<HistoryPage<T>> HistoryAsync<T>(string channel, HistoryOptions? options, DataReader<T> reader, CancellationToken cancellationToken)
    {
        CheckOpen();
        ChannelNames.Check(channel);
        options ??= new HistoryOptions();
        if (options.After < 0 || options.Limit < 1)
            throw new HeraldException("bad_request", "History: After must be at least 0 and Limit at least 1.");
        if (connector.WebSocket is { } socket)
        {
            try
            {
                var reply = await socket.RequestAsync(static (w, o) =>
                {
                    w.WriteString("op", "history");
                    w.WriteString("channel", o.channel);
                    w.WriteNumber("after", o.options.After);
                    if (o.options.Limit is { } limit)
                        w.WriteNumber("limit", limit);
                    if (o.options.Reverse)
                        w.WriteBoolean("reverse", true);
                }, (channel, options), cancellationToken).ConfigureAwait(false);
                return Replies.History(reply, reader);
            }
            catch (HeraldException e) when (e.Code is "disconnected" or "timeout")
            {
                // The socket went away under the request: HTTP answers the same.
            }
        }

        return await HistoryOverHttpAsync(channel, options, reader, cancellationToken).ConfigureAwait(false);
    }

    private async Task<HistoryPage<T>> HistoryOverHttpAsync<T>(string channel, HistoryOptions options, DataReader<T> reader, CancellationToken cancellationToken)
    {
        var query = new List<KeyValuePair<string, string>> { new("after", options.After.ToString(CultureInfo.InvariantCulture)) };
        if (options.Limit is { } limit)
            query.Add(new("limit", limit.ToString(CultureInfo.InvariantCulture)));
        if (options.Reverse)
            query.Add(new("reverse", "true"));
        var (response, body) = await http.SendJsonAsync(HttpMethod.Get, $"v1/channels/{channel}/messages" + HttpApi.Query(query), null, cancellationToken).ConfigureAwait(false);
        using (response)
            return Replies.History(body ?? throw HeraldException.Invalid("history answered 304"), reader);
    }

    private async Task<PublishResult> PublishOnceAsync(string channel, JsonData data, string? type, string key, CancellationToken cancellationToken)
    {
        // The server closes a socket (1009) on a message over its cap: a big one goes over HTTP.
        var socket = connector.WebSocket;
        if (socket is not null && data.Utf8.Length + channel.Length + key.Length + (type?.Length ?? 0) + 96 <= options.MaxWebSocketMessageBytes)
        {
            var reply = await socket.RequestAsync(static (w, p) =>
            {
                w.WriteString("op", "publish");
                w.WriteString("channel", p.channel);
                w.WritePropertyName("data");
                w.WriteRawValue(p.data.Utf8.Span, skipInputValidation: true);
                if (p.type is not null)
                    w.WriteString("type", p.type);
                w.WriteString("idempotencyKey", p.key);
            }, (channel, data, type, key), cancellationToken).ConfigureAwait(false);
            return Replies.PublishResult(reply, duplicate: false);
        }

        var body = new System.Buffers.ArrayBufferWriter<byte>(data.Utf8.Length + 64);
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WritePropertyName("data");
            writer.WriteRawValue(data.Utf8.Span, skipInputValidation: true);
            if (type is not null)
                writer.WriteString("type", type);
            writer.WriteEndObject();
        }

        var (response, answer) = await http.SendJsonAsync(
            HttpMethod.Post, $"v1/channels/{channel}/messages", body.WrittenSpan.ToArray(), cancellationToken, [new("Idempotency-Key", key)]).ConfigureAwait(false);
        using (response)
        {
            if (answer is null || response.StatusCode == HttpStatusCode.NotModified)
                throw HeraldException.Invalid("publish answered 304");
            var replayed = response.Headers.TryGetValues("Idempotent-Replayed", out var values) && values.Contains("true");
            return Replies.PublishResult(answer, replayed);
        }
    }

    /// <summary>128 random bits as 32 hex digits: the key sent when the caller gives none.</summary>
    private static string NewIdempotencyKey()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return "hc-" + Hex.Format(bytes);
    }
}
