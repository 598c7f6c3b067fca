namespace Herald.Client;

/// <summary>
/// Every failure the client reports. <see cref="Code"/> is the server's stable code
/// (docs/protocol.md#errors: <c>forbidden</c>, <c>invalid_channel</c>, <c>message_too_large</c>, …)
/// or one of the client's own: <c>network</c> (no answer), <c>timeout</c>, <c>disconnected</c> (the
/// connection ended before the answer), <c>closed</c> (the client was disposed), <c>invalid_response</c>,
/// <c>token</c> (the token provider failed), <c>invalid_cursor</c>, <c>bad_request</c>.
/// </summary>
public sealed class HeraldException : Exception
{
    /// <summary>Creates an exception with a code, a message and, when an HTTP answer came, its status.</summary>
    public HeraldException(string code, string message, int? status = null, Exception? innerException = null)
        : base(message, innerException)
    {
        Code = code;
        Status = status;
    }

    /// <summary>Creates an exception with the <c>network</c> code.</summary>
    public HeraldException()
        : this("network", "Herald request failed.")
    {
    }

    /// <summary>Creates an exception with the <c>network</c> code.</summary>
    public HeraldException(string message)
        : this("network", message)
    {
    }

    /// <summary>Creates an exception with the <c>network</c> code.</summary>
    public HeraldException(string message, Exception innerException)
        : this("network", message, null, innerException)
    {
    }

    /// <summary>The stable code to switch on.</summary>
    public string Code { get; }

    /// <summary>The HTTP status of the answer, when there was one.</summary>
    public int? Status { get; }

    /// <summary>True when the request may be retried safely (with the same idempotency key).</summary>
    public bool IsTransient =>
        Code is "network" or "timeout" or "disconnected" or "internal_error" or "unavailable" || Status >= 500;

    internal static HeraldException Invalid(string what) =>
        new("invalid_response", $"Unexpected answer from the server: {what}.");
}
