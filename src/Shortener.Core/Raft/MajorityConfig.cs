namespace Shortener.Core.Raft;

/// <summary>Quorum arithmetic over one set of voters.</summary>
public static class MajorityConfig
{
    /// <summary>
    /// The highest index that a majority of <paramref name="voters"/> has (by <paramref name="matchOf"/>).
    /// An empty set commits everything (it never constrains a joint configuration).
    /// </summary>
    public static ulong CommittedIndex(IReadOnlyCollection<ulong> voters, Func<ulong, ulong> matchOf)
    {
        if (voters.Count == 0)
        {
            return ulong.MaxValue;
        }

        var matches = voters.Select(matchOf).OrderDescending().ToArray();
        return matches[(voters.Count / 2)];
    }

    /// <summary>Won if a majority granted, lost if a majority can no longer grant, else pending.</summary>
    public static VoteResult Vote(IReadOnlyCollection<ulong> voters, IReadOnlyDictionary<ulong, bool> votes)
    {
        if (voters.Count == 0)
        {
            return VoteResult.Won;
        }

        int granted = 0, rejected = 0;
        foreach (var id in voters)
        {
            if (votes.TryGetValue(id, out var v))
            {
                if (v)
                {
                    granted++;
                }
                else
                {
                    rejected++;
                }
            }
        }

        var quorum = (voters.Count / 2) + 1;
        if (granted >= quorum)
        {
            return VoteResult.Won;
        }

        return voters.Count - rejected >= quorum ? VoteResult.Pending : VoteResult.Lost;
    }
}
