namespace Shortener.Core.Raft;

/// <summary>The membership as the tracker holds it: voters (possibly joint), learners, and what changes on leaving a joint configuration.</summary>
public sealed record TrackerConfig(JointConfig Voters, IReadOnlySet<ulong> Learners, IReadOnlySet<ulong> LearnersNext, bool AutoLeave)
{
    public static readonly TrackerConfig Empty = new(JointConfig.Empty, new HashSet<ulong>(), new HashSet<ulong>(), false);

    public ConfState ToConfState() => new(
        Voters.Incoming.Order().ToArray(),
        Learners.Order().ToArray(),
        Voters.Outgoing.Order().ToArray(),
        LearnersNext.Order().ToArray(),
        AutoLeave);

    public static TrackerConfig From(ConfState state) => new(
        new JointConfig(state.Voters.ToHashSet(), state.VotersOutgoing.ToHashSet()),
        state.Learners.ToHashSet(),
        state.LearnersNext.ToHashSet(),
        state.AutoLeave);
}
