namespace Herald.Fuzz;

/// <summary>
/// One parser fed with untrusted bytes. <see cref="Run"/> returns normally for any input the parser
/// accepts or refuses as documented (false, or the documented exception its caller turns into a 400),
/// and throws — a crash to AFL, a failure to the replay — on any other exception or broken invariant.
/// </summary>
internal interface IFuzzTarget
{
    /// <summary>The name on the command line and the corpus folder's name (bench/fuzz/corpus/&lt;name&gt;).</summary>
    string Name { get; }

    /// <summary>What the target feeds and what it checks, for <c>Herald.Fuzz list</c>.</summary>
    string Description { get; }

    void Run(ReadOnlySpan<byte> input);
}

/// <summary>A broken invariant: the parser accepted something it must not, or produced output that breaks its contract.</summary>
internal sealed class InvariantException(string message) : Exception(message)
{
    public InvariantException()
        : this("An invariant was broken.")
    {
    }

    public InvariantException(string message, Exception inner)
        : this(message + " " + inner.Message)
    {
    }
}
