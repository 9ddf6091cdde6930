namespace Shortener.Core.Raft;

/// <summary>The leader's view of everyone: the configuration, one <see cref="Progress"/> per member, and the votes of an election.</summary>
public sealed class ProgressTracker(int maxInflight)
{
    private readonly Dictionary<ulong, bool> _votes = [];

    public TrackerConfig Config { get; private set; } = TrackerConfig.Empty;

    /// <summary><see cref="Config"/> as a <see cref="Raft.ConfState"/>, made once per change (it is asked for on every status).</summary>
    public ConfState ConfState { get; private set; } = ConfState.Empty;

    public Dictionary<ulong, Progress> Progress { get; private set; } = [];

    /// <summary>The ids in <see cref="Progress"/>, in order: messages to everyone go out in this order, so runs replay.</summary>
    public IReadOnlyList<ulong> Ids { get; private set; } = [];

    public int MaxInflight => maxInflight;

    public bool IsSingleton => Config.Voters.Incoming.Count == 1 && !Config.Voters.IsJoint;

    public IEnumerable<ulong> VoterIds => Config.Voters.AllVoters;

    public void Apply(TrackerConfig config, Dictionary<ulong, Progress> progress)
    {
        Config = config;
        ConfState = config.ToConfState();
        Progress = progress;
        Ids = progress.Keys.Order().ToArray();
    }

    /// <summary>The index a quorum of voters has.</summary>
    public ulong Committed() => Config.Voters.CommittedIndex(id => Progress.TryGetValue(id, out var p) ? p.Match : 0);

    public void ResetVotes() => _votes.Clear();

    public void RecordVote(ulong id, bool granted) => _votes.TryAdd(id, granted);

    public (int Granted, int Rejected, VoteResult Result) TallyVotes()
    {
        var granted = 0;
        var rejected = 0;
        foreach (var id in VoterIds)
        {
            if (_votes.TryGetValue(id, out var v))
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

        return (granted, rejected, Config.Voters.Vote(_votes));
    }

    /// <summary>True if a quorum of voters was heard from recently (the leader itself counts).</summary>
    public bool QuorumActive(ulong self)
    {
        var votes = new Dictionary<ulong, bool>();
        foreach (var (id, progress) in Progress)
        {
            if (!progress.IsLearner)
            {
                votes[id] = id == self || progress.RecentActive;
            }
        }

        return Config.Voters.Vote(votes) == VoteResult.Won;
    }

    public bool IsVoter(ulong id) => Config.Voters.Contains(id);
}
