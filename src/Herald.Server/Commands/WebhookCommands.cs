using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Herald.Server.Commands;

/// <summary>
/// <c>herald webhooks add|list|enable|disable|remove|deliveries|replay</c>: outbound webhook
/// subscriptions and their deliveries, over the server's HTTP API (answers printed as JSON).
/// </summary>
internal static class WebhookCommands
{
    public static Command Create()
    {
        var command = new Command("webhooks", "Manage outbound webhook subscriptions and inspect their deliveries.");
        command.Subcommands.Add(CreateAdd());
        command.Subcommands.Add(CreateList());
        command.Subcommands.Add(CreateToggle("enable", enabled: true));
        command.Subcommands.Add(CreateToggle("disable", enabled: false));
        command.Subcommands.Add(CreateRemove());
        command.Subcommands.Add(CreateDeliveries());
        command.Subcommands.Add(CreateReplay());
        return command;
    }

    private static Command CreateAdd()
    {
        var url = new Argument<string>("url") { Description = "Where deliveries are POSTed (http:// or https://)." };
        var channels = new Option<string[]>("--channel")
        {
            Description = "A channel pattern: 'ns:name', 'ns:*', 'ns:prefix*' or '*'. Repeat for several.",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var events = new Option<string[]>("--event")
        {
            Description = "An event type to receive: publication (the default), channel.occupied, channel.vacated, presence.join, presence.leave. Repeat for several.",
            AllowMultipleArgumentsPerToken = true,
        };
        var ordered = new Option<bool>("--ordered") { Description = "One delivery at a time, in order." };
        var disabled = new Option<bool>("--disabled") { Description = "Create it disabled." };
        var secret = new Option<string?>("--secret") { Description = "Your own whsec_ secret (default: generated and printed)." };
        var description = new Option<string?>("--description") { Description = "A note for people." };
        var command = new Command("add", "Subscribe a URL to channels; prints the subscription with its signing secret (shown only here).")
        {
            url, channels, events, ordered, disabled, secret, description, ClientCommands.Server, ClientCommands.ApiKey, ClientCommands.Data,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var body = new Dictionary<string, object?>
            {
                ["url"] = parse.GetValue(url),
                ["channels"] = parse.GetValue(channels),
                ["events"] = parse.GetValue(events) is { Length: > 0 } types ? types : null,
                ["ordered"] = parse.GetValue(ordered) ? true : null,
                ["enabled"] = parse.GetValue(disabled) ? false : null,
                ["secret"] = parse.GetValue(secret),
                ["description"] = parse.GetValue(description),
            };
            return await SendJsonAsync(parse, HttpMethod.Post, "v1/webhooks/subscriptions", body, cancellationToken);
        });
        return command;
    }

    private static Command CreateList()
    {
        var command = new Command("list", "List webhook subscriptions.") { ClientCommands.Server, ClientCommands.ApiKey, ClientCommands.Data };
        command.SetAction((parse, cancellationToken) => SendJsonAsync(parse, HttpMethod.Get, "v1/webhooks/subscriptions", null, cancellationToken));
        return command;
    }

    private static Command CreateToggle(string name, bool enabled)
    {
        var id = new Argument<string>("id") { Description = "The subscription id (sub_...)." };
        var command = new Command(name, enabled ? "Enable a subscription (also after a 410 Gone disabled it)." : "Disable a subscription: nothing new is queued for it; pending deliveries wait.")
        {
            id, ClientCommands.Server, ClientCommands.ApiKey, ClientCommands.Data,
        };
        command.SetAction((parse, cancellationToken) => SendJsonAsync(
            parse, HttpMethod.Patch, "v1/webhooks/subscriptions/" + Uri.EscapeDataString(parse.GetValue(id)!), new Dictionary<string, object?> { ["enabled"] = enabled }, cancellationToken));
        return command;
    }

    private static Command CreateRemove()
    {
        var id = new Argument<string>("id") { Description = "The subscription id (sub_...)." };
        var command = new Command("remove", "Remove a subscription and its deliveries.") { id, ClientCommands.Server, ClientCommands.ApiKey, ClientCommands.Data };
        command.SetAction((parse, cancellationToken) => SendJsonAsync(parse, HttpMethod.Delete, "v1/webhooks/subscriptions/" + Uri.EscapeDataString(parse.GetValue(id)!), null, cancellationToken));
        return command;
    }

    private static Command CreateDeliveries()
    {
        var subscription = new Option<string?>("--subscription") { Description = "Only this subscription's deliveries." };
        var status = new Option<string?>("--status") { Description = "pending, delivered or dead." };
        status.AcceptOnlyFromAmong("pending", "delivered", "dead");
        var channel = new Option<string?>("--channel") { Description = "Only deliveries of this channel." };
        var limit = new Option<int?>("--limit") { Description = "At most this many (newest first)." };
        var before = new Option<long?>("--before") { Description = "Only deliveries older than this id (the previous page's nextBefore)." };
        var command = new Command("deliveries", "List deliveries with their attempts, newest first.")
        {
            subscription, status, channel, limit, before, ClientCommands.Server, ClientCommands.ApiKey, ClientCommands.Data,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            var query = new List<string>();
            void Add(string name, string? value)
            {
                if (value is not null)
                    query.Add(name + "=" + Uri.EscapeDataString(value));
            }

            Add("subscription", parse.GetValue(subscription));
            Add("status", parse.GetValue(status));
            Add("channel", parse.GetValue(channel));
            Add("limit", parse.GetValue(limit)?.ToString(CultureInfo.InvariantCulture));
            Add("before", parse.GetValue(before)?.ToString(CultureInfo.InvariantCulture));
            var path = "v1/webhooks/deliveries" + (query.Count > 0 ? "?" + string.Join('&', query) : string.Empty);
            return SendJsonAsync(parse, HttpMethod.Get, path, null, cancellationToken);
        });
        return command;
    }

    private static Command CreateReplay()
    {
        var id = new Argument<long>("id") { Description = "The delivery id." };
        var command = new Command("replay", "Deliver again now, with the same webhook-id and a fresh retry schedule.")
        {
            id, ClientCommands.Server, ClientCommands.ApiKey, ClientCommands.Data,
        };
        command.SetAction((parse, cancellationToken) => SendJsonAsync(
            parse, HttpMethod.Post, $"v1/webhooks/deliveries/{parse.GetValue(id).ToString(CultureInfo.InvariantCulture)}/replay", null, cancellationToken));
        return command;
    }

    private static async Task<int> SendJsonAsync(ParseResult parse, HttpMethod method, string path, Dictionary<string, object?>? body, CancellationToken cancellationToken)
    {
        using var client = ClientCommands.CreateClient(parse);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            var json = JsonSerializer.Serialize(body.Where(p => p.Value is not null).ToDictionary(), CliJsonContext.Default.DictionaryStringObject);
            request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        }

        return await ClientCommands.SendAsync(client, request, cancellationToken);
    }
}
