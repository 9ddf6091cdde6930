namespace Shortener.Core.Raft;

/// <summary>
/// A membership configuration. Outside a joint configuration, <see cref="VotersOutgoing"/> is
/// empty. <see cref="LearnersNext"/> are voters of the outgoing configuration that become learners
/// when the joint configuration is left. <see cref="AutoLeave"/> makes the leader leave the joint
/// configuration on its own once it is committed.
/// </summary>
public sealed record ConfState(
    IReadOnlyList<ulong> Voters,
    IReadOnlyList<ulong> Learners,
    IReadOnlyList<ulong> VotersOutgoing,
    IReadOnlyList<ulong> LearnersNext,
    bool AutoLeave)
{
    public static readonly ConfState Empty = new([], [], [], [], false);

    public static ConfState Of(params ulong[] voters) => new(voters.Order().ToArray(), [], [], [], false);

    public bool IsJoint => VotersOutgoing.Count > 0;

    /// <summary>Whether <paramref name="id"/> has any part in this configuration (voter, learner, outgoing voter, or learner to be).</summary>
    public bool Contains(ulong id) => Voters.Contains(id) || Learners.Contains(id) || VotersOutgoing.Contains(id) || LearnersNext.Contains(id);

    public override string ToString() =>
        $"voters=({string.Join(' ', Voters)})" + (IsJoint ? $"&&({string.Join(' ', VotersOutgoing)})" : string.Empty)
        + (Learners.Count > 0 ? $" learners=({string.Join(' ', Learners)})" : string.Empty)
        + (LearnersNext.Count > 0 ? $" learners_next=({string.Join(' ', LearnersNext)})" : string.Empty)
        + (AutoLeave ? " autoleave" : string.Empty);
}
