namespace Herald.Engine;

/// <summary>
/// A place in one channel's log. <see cref="Offset"/> grows by exactly one per publication,
/// starting at 1; offset 0 means "before the first publication". <see cref="Epoch"/> names one
/// generation of the log and changes only when history was lost, so a position from another
/// epoch can never be silently resumed.
/// </summary>
public readonly record struct Position(string Epoch, long Offset)
{
    public override string ToString() => $"{Epoch}:{Offset}";
}
