namespace Shortener.Core.Replication;

/// <summary>
/// A linearizable read point: when <see cref="Ok"/>, this replica has applied through
/// <see cref="Index"/>, which its leader confirmed as current after the read was asked, so reading
/// the local state now is linearizable. Otherwise <see cref="Failure"/> says why not.
/// </summary>
public readonly record struct ReadOutcome(bool Ok, ulong Index, string? Failure)
{
    public static ReadOutcome At(ulong index) => new(true, index, null);

    public static ReadOutcome Failed(string reason) => new(false, 0, reason);
}
