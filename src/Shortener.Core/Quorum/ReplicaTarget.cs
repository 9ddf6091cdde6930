namespace Shortener.Core.Quorum;

/// <summary>
/// Where a coordinator sends one copy of a write: <paramref name="Node"/>, which is the owner
/// <paramref name="Owner"/> itself, or (sloppy quorum) a stand-in holding the copy as a hint for the
/// owner while it is down. <paramref name="Dc"/> is the owner's data centre, <paramref name="NodeDc"/>
/// the data centre of the node the copy goes to.
/// </summary>
public readonly record struct ReplicaTarget(ulong Node, ulong Owner, string Dc, string NodeDc)
{
    public bool IsHint => Node != Owner;
}
