using System.Buffers;
using System.Net;
using Herald.Http;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Herald.Transports.Connections;

/// <summary>
/// The first of a connection's middleware: takes a slot of the <see cref="ConnectionLimiter"/> for
/// the connection's life, or refuses it. A refused client is answered, not just cut: it gets
/// <c>429</c> (its address holds <see cref="ConnectionOptions.MaxConnectionsPerIp"/>) or
/// <c>503</c> (the node holds <see cref="ConnectionOptions.MaxConnections"/>) with a
/// <c>too_many_connections</c> problem document and <c>Retry-After</c>, then the connection closes.
/// </summary>
internal sealed class ConnectionLimitMiddleware(ConnectionDelegate next, ConnectionLimiter limiter)
{
    /// <summary>10 s: connections free up as clients leave; an immediate retry meets the same refusal.</summary>
    public const int RetryAfterSeconds = 10;

    // A request head is answered once it is read whole (or 8 KiB of it, Kestrel's default
    // request-line size): then the close is a FIN, and the client reads the answer instead of a reset.
    private const int MaxHeadBytes = 8 * 1024;

    public async Task OnConnectedAsync(ConnectionContext connection)
    {
        var address = (connection.RemoteEndPoint as IPEndPoint)?.Address;
        if (limiter.TryAcquire(address, out var limit))
        {
            try
            {
                await next(connection);
            }
            finally
            {
                limiter.Release(address);
            }

            return;
        }

        // Past MaxRefusing lingering refusals the connection is closed at once: answering must not
        // itself hold the descriptors the limit protects.
        if (!limiter.TryBeginRefusal())
            return;
        try
        {
            await RefuseAsync(connection, limit);
        }
        finally
        {
            limiter.EndRefusal();
        }
    }

    private async Task RefuseAsync(ConnectionContext connection, string limit)
    {
        using var grace = CancellationTokenSource.CreateLinkedTokenSource(connection.ConnectionClosed);
        grace.CancelAfter(ConnectionLimiter.RefusalGrace);
        if (!await DrainHeadAsync(connection, grace.Token))
            return;

        var (status, reason, detail) = limit == "ip"
            ? (429, "Too Many Requests", $"This client address already holds {limiter.MaxConnectionsPerIp} connections (Herald:Connections:MaxConnectionsPerIp). Close some, or retry after {RetryAfterSeconds} s.")
            : (503, "Service Unavailable", $"This node holds {limiter.MaxConnections} connections, its limit (Herald:Connections:MaxConnections). Retry after {RetryAfterSeconds} s, or on another node.");
        try
        {
            await RawResponse.WriteProblemAsync(connection.Transport.Output, status, reason, "too_many_connections", "Too many connections", detail, RetryAfterSeconds);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ConnectionResetException or OperationCanceledException)
        {
            // The client left first.
        }
    }

    /// <summary>
    /// Reads (and discards) the request head; false when the client is gone, sent nothing in the
    /// grace period, or speaks TLS (a plain-text answer would be noise to it).
    /// </summary>
    private static async Task<bool> DrainHeadAsync(ConnectionContext connection, CancellationToken cancellationToken)
    {
        var input = connection.Transport.Input;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(cancellationToken);
                var buffer = result.Buffer;

                // 0x16: a TLS handshake record (ClientHello).
                if (!buffer.IsEmpty && buffer.FirstSpan[0] == 0x16)
                    return false;

                var done = ContainsHeadEnd(buffer) || buffer.Length >= MaxHeadBytes || result.IsCompleted || result.IsCanceled;
                var any = !buffer.IsEmpty;
                input.AdvanceTo(done ? buffer.End : buffer.Start, buffer.End);
                if (done)
                    return any && !result.IsCanceled;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or InvalidOperationException)
        {
            return false;
        }
    }

    private static bool ContainsHeadEnd(ReadOnlySequence<byte> buffer)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> _, "\r\n\r\n"u8);
    }
}

/// <summary>Opts a Kestrel endpoint into Herald's connection limits.</summary>
public static class ConnectionLimitExtensions
{
    /// <summary>
    /// Counts every connection of the endpoint against <c>Herald:Connections</c> and refuses the ones
    /// past a limit (docs/security.md). Call it first, before <c>UseHeraldWebSockets</c>.
    /// </summary>
    public static ListenOptions UseHeraldConnectionLimits(this ListenOptions listen)
    {
        ArgumentNullException.ThrowIfNull(listen);
        var limiter = listen.ApplicationServices.GetRequiredService<ConnectionLimiter>();
        listen.Use(next => new ConnectionLimitMiddleware(next, limiter).OnConnectedAsync);
        return listen;
    }
}
