namespace Shortener.Core.Raft;

/// <summary>
/// The voters: one majority configuration, or two during joint consensus (incoming and outgoing),
/// where every decision needs a majority of both.
/// </summary>
public sealed record JointConfig(IReadOnlySet<ulong> Incoming, IReadOnlySet<ulong> Outgoing)
{
    public static readonly JointConfig Empty = new(new HashSet<ulong>(), new HashSet<ulong>());

    public bool IsJoint => Outgoing.Count > 0;

    public IEnumerable<ulong> AllVoters => Incoming.Union(Outgoing);

    public bool Contains(ulong id) => Incoming.Contains(id) || Outgoing.Contains(id);

    public ulong CommittedIndex(Func<ulong, ulong> matchOf) =>
        Math.Min(MajorityConfig.CommittedIndex(Incoming.ToList(), matchOf), MajorityConfig.CommittedIndex(Outgoing.ToList(), matchOf));

    public VoteResult Vote(IReadOnlyDictionary<ulong, bool> votes)
    {
        var a = MajorityConfig.Vote(Incoming.ToList(), votes);
        var b = MajorityConfig.Vote(Outgoing.ToList(), votes);
        if (a == b)
        {
            return a;
        }

        return a == VoteResult.Lost || b == VoteResult.Lost ? VoteResult.Lost : VoteResult.Pending;
    }
}
