namespace Herald.Engine;

/// <summary>
/// The engine (the Redis server, the database) cannot be reached: the operation did nothing and
/// may be retried — a publish with the same idempotency key yields exactly one publication. Answered
/// <c>503 engine_unavailable</c> with <c>Retry-After</c>.
/// </summary>
public sealed class EngineUnavailableException : Exception
{
    public EngineUnavailableException()
        : base("The engine is unavailable.")
    {
    }

    public EngineUnavailableException(string message)
        : base(message)
    {
    }

    public EngineUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
