using System.Text.Json;
using Herald.Client.Internal;

namespace Herald.Client;

/// <summary>Typing and signals: over the open WebSocket when there is one, else plain HTTP.</summary>
public sealed partial class HeraldClient
{
    /// <summary>
    /// Says the user is typing on a channel (start, or refresh: again every <see cref="TypingTimings.Resend"/>
    /// while they type) or stopped (after <see cref="TypingTimings.Idle"/> without a keystroke). Needs a user
    /// token; the namespace must enable typing. Over the WebSocket (<c>typing</c> / <c>typing_stop</c>), else
    /// <c>POST /v1/channels/{channel}/typing</c>, whose answer carries the timings (returned; null over the
    /// WebSocket, whose subscribe reply carries them: <see cref="SubscriptionBase.Typing"/>).
    /// </summary>
    public async Task<TypingTimings?> TypingAsync(string channel, bool typing = true, CancellationToken cancellationToken = default)
    {
        CheckOpen();
        ChannelNames.Check(channel);
        if (connector.WebSocket is { } socket)
        {
            await socket.RequestAsync(static (w, p) =>
            {
                w.WriteString("op", p.typing ? "typing" : "typing_stop");
                w.WriteString("channel", p.channel);
            }, (channel, typing), cancellationToken).ConfigureAwait(false);
            return null;
        }

        var body = typing ? "{\"typing\":true}"u8.ToArray() : "{\"typing\":false}"u8.ToArray();
        var (response, answer) = await http.SendJsonAsync(HttpMethod.Post, $"v1/channels/{channel}/typing", body, cancellationToken).ConfigureAwait(false);
        using (response)
        {
            if (answer is null)
                return null;
            using var document = JsonDocument.Parse(answer);
            var o = document.RootElement;
            return new TypingTimings(
                TimeSpan.FromMilliseconds(o.GetProperty("resend").GetInt64()),
                TimeSpan.FromMilliseconds(o.GetProperty("idle").GetInt64()),
                TimeSpan.FromMilliseconds(o.GetProperty("expire").GetInt64()));
        }
    }

    /// <summary>
    /// Sends a signal (a reaction, a cursor, a "ringing") to the channel's current subscribers: never stored,
    /// not replayed. The namespace must enable signals. Over the WebSocket (<c>signal</c>), else
    /// <c>POST /v1/channels/{channel}/signals</c>.
    /// </summary>
    public async Task SignalAsync(string channel, string name, JsonData? data = null, CancellationToken cancellationToken = default)
    {
        CheckOpen();
        ChannelNames.Check(channel);
        if (connector.WebSocket is { } socket)
        {
            await socket.RequestAsync(static (w, p) =>
            {
                w.WriteString("op", "signal");
                w.WriteString("channel", p.channel);
                Write(w, p.name, p.data);
            }, (channel, name, data), cancellationToken).ConfigureAwait(false);
            return;
        }

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(64);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            Write(writer, name, data);
            writer.WriteEndObject();
        }

        var (response, _) = await http.SendJsonAsync(HttpMethod.Post, $"v1/channels/{channel}/signals", buffer.WrittenSpan.ToArray(), cancellationToken).ConfigureAwait(false);
        response.Dispose();
    }

    private static void Write(Utf8JsonWriter writer, string name, JsonData? data)
    {
        writer.WriteString("name", name);
        if (data is { } value && !value.Utf8.IsEmpty)
        {
            writer.WritePropertyName("data");
            writer.WriteRawValue(value.Utf8.Span, skipInputValidation: true);
        }
    }
}
