namespace Herald.Client.Internal;

/// <summary>
/// The client's credential: a fixed token or API key, or a provider called for the first request, on
/// every new connection, and again after a 401/403 (an expired token).
/// </summary>
internal sealed class Credentials(HeraldClientOptions options)
{
    private readonly TokenProvider? provider = options.TokenProvider;
    private readonly string? fixedToken = string.IsNullOrEmpty(options.Token) ? options.ApiKey : options.Token;
    private readonly object gate = new();
    private Task<string?>? cached;

    public bool Refreshable => provider is not null;

    public Task<string?> CurrentAsync(CancellationToken cancellationToken)
    {
        if (provider is null)
            return Task.FromResult(string.IsNullOrEmpty(fixedToken) ? null : fixedToken);
        lock (gate)
            return cached ??= LoadAsync(cancellationToken);
    }

    public Task<string?> RefreshAsync(CancellationToken cancellationToken)
    {
        if (provider is null)
            return CurrentAsync(cancellationToken);
        lock (gate)
            return cached = LoadAsync(cancellationToken);
    }

    private async Task<string?> LoadAsync(CancellationToken cancellationToken)
    {
        try
        {
            var token = await provider!(cancellationToken).ConfigureAwait(false);
            return string.IsNullOrEmpty(token) ? null : token;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            lock (gate)
                cached = null;
            throw;
        }
#pragma warning disable CA1031 // Whatever the application's provider throws becomes the client's 'token' error.
        catch (Exception e)
#pragma warning restore CA1031
        {
            lock (gate)
                cached = null;
            throw new HeraldException("token", $"The token provider failed: {e.Message}", null, e);
        }
    }
}
