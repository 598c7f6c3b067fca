using System.Net.Http.Headers;
using Herald.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;

namespace Herald.IntegrationTests;

/// <summary>A real Herald on Kestrel, 127.0.0.1 and an ephemeral port, with its own data directory.</summary>
public sealed class TestServer : IAsyncDisposable
{
    public const string ApiKey = "test-api-key-0123456789";

    private readonly WebApplication app;

    private TestServer(WebApplication app, string dataDirectory)
    {
        this.app = app;
        DataDirectory = dataDirectory;
        BaseAddress = new Uri(app.Urls.First(u => u.StartsWith("http://127.0.0.1", StringComparison.Ordinal) || u.StartsWith("https://127.0.0.1", StringComparison.Ordinal)) + "/");
    }

    public Uri BaseAddress { get; }

    public string DataDirectory { get; }

    public IServiceProvider Services => app.Services;

    /// <param name="engine">Replaces the engine <paramref name="store"/> names (several nodes over one <c>MemoryBackplane</c>).</param>
    public static async Task<TestServer> StartAsync(string store = "sqlite", IDictionary<string, string?>? settings = null, string? dataDirectory = null, Action<IHeraldBuilder>? engine = null, Microsoft.Extensions.Logging.ILoggerProvider? logs = null)
    {
        dataDirectory ??= TempDirectory.Create();
        var overrides = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
        {
            ["urls"] = "http://127.0.0.1:0",
            ["Herald:Store"] = store,
            ["Herald:DataDirectory"] = dataDirectory,
            ["Herald:ApiKeys:0"] = ApiKey,
        };
        if (settings is not null)
        {
            foreach (var (key, value) in settings)
                overrides[key] = value;
        }

        var app = HeraldHost.Build([], overrides, quiet: true, engine, configure: logs is null ? null : (Action<WebApplicationBuilder>)(builder =>
        {
            // Every level, for the tests that assert what is logged; the console stays at Warning.
            builder.Logging.AddProvider(logs);
            builder.Logging.SetMinimumLevel(Microsoft.Extensions.Logging.LogLevel.Trace);
            builder.Logging.AddFilter<Microsoft.Extensions.Logging.Console.ConsoleLoggerProvider>(level => level >= Microsoft.Extensions.Logging.LogLevel.Warning);
        }));
        await app.StartAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return new TestServer(app, dataDirectory);
    }

    public HttpClient CreateClient(string? apiKey = ApiKey)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return client;
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync().WaitAsync(TimeSpan.FromSeconds(60));
        await app.DisposeAsync();
        TempDirectory.Delete(DataDirectory);
    }
}

internal static class TempDirectory
{
    public static string Create()
    {
        var path = Path.Combine(Path.GetTempPath(), "herald-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        return path;
    }

    public static void Delete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a dying process; the OS temp cleaner takes it.
        }
    }
}
