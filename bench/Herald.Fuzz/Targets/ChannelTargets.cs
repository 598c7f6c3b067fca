using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Herald.Channels;
using Herald.Transports.WebSocket;
using Herald.Webhooks.Inbound;

namespace Herald.Fuzz.Targets;

/// <summary>A channel name (from a query string, a path, a WebSocket op) through its validation, and the refusal's message into a reply.</summary>
internal sealed partial class ChannelNameTarget : IFuzzTarget
{
    public string Name => "channel-name";

    public string Description => "ChannelName.TryValidate(name); accepts exactly the documented grammar, and every refusal's message encodes as JSON";

    public void Run(ReadOnlySpan<byte> input)
    {
        var name = Encoding.UTF8.GetString(input);
        var valid = ChannelName.TryValidate(name, out var error);
        var expected = name.Length <= ChannelName.MaxLength && Grammar().IsMatch(name);
        Check.That(valid == expected, $"'{name}' is {(valid ? "accepted" : "refused")}; the grammar says {(expected ? "valid" : "invalid")}.");
        if (valid)
        {
            Check.That(ChannelName.NamespaceOf(name) == name[..name.IndexOf(':', StringComparison.Ordinal)], "NamespaceOf differs.");
            return;
        }

        Check.That(!string.IsNullOrEmpty(error), "A refused name has no message.");
        // The message names the offending character; it goes into problem documents and WebSocket replies.
        var reply = WebSocketReplies.Error(new RequestId(1, null), WebSocketCodes.InvalidChannel, error!);
        Check.PortableJson(reply.Span, "The refusal's reply");
        using var document = JsonDocument.Parse(reply);
        Check.That(document.RootElement.GetProperty("message").GetString() == error, $"The refusal's message did not survive JSON encoding: {error}");
    }

    // \z, not $: $ also matches before a final newline, which the grammar refuses.
    [GeneratedRegex(@"\A[a-z0-9_-]{1,32}:[A-Za-z0-9_.=@~-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex Grammar();
}

/// <summary>
/// An inbound webhook source's channel template (first line) filled from a JSON body (the rest), as
/// the endpoint does: a filled channel is valid and keeps the template's literal namespace.
/// </summary>
internal sealed class ChannelTemplateTarget : IFuzzTarget
{
    public string Name => "channel-template";

    public string Description => "ChannelTemplate.Parse(template) + TryFill(JSON body); filled channels are valid and in the template's namespace";

    public void Run(ReadOnlySpan<byte> input)
    {
        var line = Check.FirstLine(input, Encoding.UTF8, out var rest);
        var template = ChannelTemplate.Parse(line, out var parseError);
        if (template is null)
        {
            Check.That(parseError.Length > 0, "A refused template has no message.");
            return;
        }

        var colon = line.IndexOf(':', StringComparison.Ordinal);
        Check.That(colon > 0 && ChannelName.IsValid(line[..(colon + 1)] + "x"), $"Accepted template '{line}' has no valid literal namespace.");

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(rest.ToArray(), new JsonDocumentOptions { MaxDepth = Publishing.JsonData.MaxDepth });
        }
        catch (JsonException)
        {
            document = JsonDocument.Parse("{}");
        }

        using (document)
        {
            bool filled;
            string channel;
            string fillError;
            try
            {
                filled = template.TryFill(document.RootElement, out channel, out fillError);
            }
            catch (InvalidOperationException)
            {
                // Documented: a member name or string that is not valid Unicode; the endpoint answers 400 invalid_body.
                return;
            }

            if (!filled)
            {
                Check.That(fillError.Length > 0, "A failed fill has no message.");
                return;
            }

            Check.That(ChannelName.IsValid(channel), $"Filled an invalid channel '{channel}'.");
            Check.That(ChannelName.NamespaceOf(channel) == line[..colon], $"'{line}' filled '{channel}', in another namespace.");
            Check.That(!template.IsFixed || channel == line, $"Fixed template '{line}' filled '{channel}'.");
        }
    }
}
