using System.Text.Json;
using Herald.Auth;
using Herald.Channels;
using Herald.Http;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;

namespace Herald.Api;

/// <summary>
/// <c>POST /v1/direct</c> <c>{"members": ["alice", "bob"], "namespace": "dm"}</c>: the canonical
/// direct channel of a set of users. A server API key may ask for any set; a user only for a set
/// they are in. Ids that cannot appear in a channel name get a hashed name (<see cref="DirectChannel"/>).
/// </summary>
internal static class DirectEndpoint
{
    /// <summary>A direct request body is a short list of ids: 64 KiB is far above any valid one.</summary>
    private const int MaxBodyBytes = 64 * 1024;

    public static async Task<IResult> HandleAsync(HttpContext context, Authenticator authenticator, IOptions<HeraldOptions> options)
    {
        var caller = await authenticator.IdentifyAsync(context.Request);
        switch (caller.Kind)
        {
            case CallerKind.Invalid:
                return Problems.Forbidden(caller.Error ?? "The credentials are not valid.");
            case CallerKind.Anonymous:
                return Problems.Unauthorized("A user token or a server API key is required to name a direct channel.");
        }

        if (!RequestBody.IsJson(context.Request.ContentType))
            return Problems.UnsupportedMediaType(context.Request.ContentType);
        var (bytes, read) = await RequestBody.ReadArrayAsync(context, MaxBodyBytes);
        if (read.Status == BodyStatus.TooLarge)
            return Problems.Make(413, "message_too_large", "Request too large", $"The body is larger than {MaxBodyBytes} bytes.");
        if (bytes is null)
            return RequestBody.Unreadable(read);

        DirectRequest? request;
        try
        {
            request = JsonSerializer.Deserialize(bytes, ApiJsonContext.Default.DirectRequest);
        }
        catch (JsonException e)
        {
            return Problems.InvalidBody($"The body is not a direct request: {e.Message}");
        }

        if (request?.Members is not { } members || members.Contains(null))
            return Problems.InvalidBody("The body is {\"members\": [\"<user id>\", ...], \"namespace\": \"dm\"} with 2 or more user ids.");

        var settings = options.Value;
        var ns = request.Namespace ?? HeraldOptions.DirectNamespace;
        if (!ChannelName.IsValid(ns + ":x") || settings.KindOf(ns) != ChannelKind.Direct)
            return Problems.InvalidBody($"'{ns}' is not a namespace of direct channels (Herald:Namespaces:{{name}}:Kind = Direct; 'dm' by default).");

        var ids = members!;
        if (caller.Kind == CallerKind.User && !ids.Contains(caller.User, StringComparer.Ordinal))
            return Problems.Forbidden($"A user may name only direct channels they are a member of; '{caller.User}' is not in the list.");

        var max = settings.PolicyFor(ns + ":x").MaxDirectMembers;
        var channel = DirectChannel.ForMembers(ns, ids!, max, out var sorted, out var hashed, out var error);
        if (channel is null)
            return Problems.InvalidBody(error!);

        return TypedResults.Json(new DirectResponse(channel, sorted, hashed), ApiJsonContext.Default.DirectResponse);
    }
}

/// <summary>The body of <c>POST /v1/direct</c>.</summary>
public sealed record DirectRequest(string?[]? Members, string? Namespace);

/// <summary>The canonical direct channel of <paramref name="Members"/>; <paramref name="Hashed"/>: its name does not list them, and access to it comes from token grants.</summary>
public sealed record DirectResponse(string Channel, string[] Members, bool Hashed);
