using System.Reflection;
using NetArchTest.Rules;

namespace Herald.Tests.Architecture;

/// <summary>
/// The direction of Herald's layers, read from the compiled assemblies (every type reference in
/// signatures and method bodies): the engine core knows no transport, HTTP or webhook; transports
/// use the HTTP layer's helpers (problem documents, body reading) but not the HTTP API; nothing
/// below the composition root reaches up. A new dependency against the grain fails here, naming
/// the type that took it.
/// </summary>
public sealed class DependencyDirectionTests
{
    private static readonly Assembly s_core = typeof(HeraldOptions).Assembly;
    private static readonly Assembly s_sqlite = typeof(Sqlite.SqliteChannelLog).Assembly;

    // Namespaces as layers; a namespace matches its children (Herald.Transports.WebSocket is in Herald.Transports).
    private const string Engine = "Herald.Engine";
    private const string Channels = "Herald.Channels";
    private const string Hub = "Herald.Hub";
    private const string Publishing = "Herald.Publishing";
    private const string Auth = "Herald.Auth";
    private const string Http = "Herald.Http";
    private const string Api = "Herald.Api";
    private const string Transports = "Herald.Transports";
    private const string Webhooks = "Herald.Webhooks";
    private const string Stats = "Herald.Stats";
    private const string Diagnostics = "Herald.Diagnostics";
    private const string Presence = "Herald.Presence";
    private const string Typing = "Herald.Typing";
    private const string Reading = "Herald.Reading";
    private const string Receipts = "Herald.Receipts";

    public static TheoryData<string, string[]> Rules => new()
    {
        // The meter every layer counts with: it knows none of them.
        { Diagnostics, [Engine, Channels, Hub, Publishing, Auth, Http, Api, Transports, Webhooks, Stats, "Microsoft.AspNetCore"] },

        // The engine core: the log and broker contracts, the channel model, the node and its sessions, publishing.
        { Engine, [Channels, Hub, Publishing, Auth, Http, Api, Transports, Webhooks, Stats, "Microsoft.AspNetCore"] },
        { Channels, [Hub, Publishing, Auth, Http, Api, Transports, Webhooks, Stats, "Microsoft.AspNetCore"] },
        { Hub, [Publishing, Auth, Presence, Typing, Http, Api, Transports, Webhooks, Stats, "Microsoft.AspNetCore"] },
        { Publishing, [Hub, Http, Api, Transports, Webhooks, Stats, "Microsoft.AspNetCore"] },
        { Auth, [Hub, Publishing, Http, Api, Transports, Webhooks, Stats] },

        // Chat facets on the node: they hook the hub and use the engine's stores; no entry point.
        { Presence, [Publishing, Typing, Http, Api, Transports, Webhooks, Stats, "Microsoft.AspNetCore"] },
        { Typing, [Publishing, Presence, Http, Api, Transports, Webhooks, Stats, "Microsoft.AspNetCore"] },
        { Reading, [Hub, Publishing, Presence, Typing, Receipts, Http, Api, Transports, Webhooks, Stats, "Microsoft.AspNetCore"] },
        { Receipts, [Publishing, Presence, Typing, Http, Api, Transports, Webhooks, Stats, "Microsoft.AspNetCore"] },

        // HTTP helpers (problem documents, bodies, entity tags) serve every endpoint and depend on none.
        { Http, [Api, Transports, Webhooks, Stats] },

        // Entry points: each its own; none reaches into another.
        { Api, [Transports, Webhooks, Stats] },
        { Transports, [Api, Webhooks, Stats] },
        { Webhooks, [Api, Transports, Stats] },
        { Stats, [Api, Webhooks] },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void A_layer_depends_only_on_the_layers_below_it(string layer, string[] forbidden)
    {
        var result = Types.InAssembly(s_core)
            .That().ResideInNamespace(layer)
            .ShouldNot().HaveDependencyOnAny(forbidden)
            .GetResult();

        Assert.True(result.IsSuccessful, $"{layer} must not depend on {string.Join(", ", forbidden)}; these types do: {Describe(result)}");
    }

    [Fact]
    public void An_engine_project_depends_on_the_core_contracts_but_not_on_its_entry_points()
    {
        var result = Types.InAssembly(s_sqlite)
            .ShouldNot().HaveDependencyOnAny(Api, Transports, Stats, Http, "Microsoft.AspNetCore")
            .GetResult();

        Assert.True(result.IsSuccessful, $"Herald.Sqlite reaches into entry points: {Describe(result)}");
    }

    [Fact]
    public void No_namespace_of_the_core_is_named_like_the_logging_classes()
    {
        // A namespace called "Log" made every nested 'Log' class ambiguous (Herald.Log vs Foo.Log).
        var namespaces = s_core.GetTypes().Select(t => t.Namespace).Where(n => n is not null).Distinct();
        Assert.DoesNotContain(namespaces, n => n!.Split('.').Contains("Log", StringComparer.Ordinal));
    }

    private static string Describe(TestResult result) =>
        result.FailingTypes is null ? "(none)" : string.Join(", ", result.FailingTypes.Select(t => t.FullName));
}
