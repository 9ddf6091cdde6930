using Shortener.Core.Raft;

namespace Shortener.Core.Cluster;

/// <summary>
/// Decides a shard leader's next membership step toward the placement of the current members. Pure:
/// the driver asks it on the leader every second or so and carries out what it returns, one step at
/// a time (the engine refuses a change while another is pending). The steps, in order:
/// <list type="number">
/// <item>a node the placement names but the configuration lacks is added as a learner;</item>
/// <item>a learner the placement names a voter is promoted once caught up (it answered the leader recently, and
/// its match, which must be past 0, within <c>maxLag</c> entries of the leader's last index), by one
/// joint change that also demotes (or, if it left the cluster, removes) a voter the placement no
/// longer names, so the voter count never drops;</item>
/// <item>a voter beyond the placement's count is demoted or removed on its own;</item>
/// <item>a learner of a node that left the cluster is removed.</item>
/// </list>
/// The leader never demotes itself: when it is the voter to go, it hands leadership to a caught-up
/// voter that stays, whose own reconciler then finishes the job. And it changes voters only when
/// the voters it would have are a quorum of replicas that answered it recently: removing a live voter
/// while another is down would leave a configuration that needs the dead one.
/// </summary>
public static class ShardReconciler
{
    public static ReconcileStep Next(
        ConfState conf,
        ShardReplicas target,
        ulong self,
        IReadOnlyDictionary<ulong, ulong> match,
        IReadOnlySet<ulong> active,
        ulong lastIndex,
        ulong maxLag)
    {
        if (conf.IsJoint)
        {
            // The engine leaves a joint configuration on its own (auto-leave); wait for it.
            return ReconcileStep.None;
        }

        var voters = conf.Voters.ToHashSet();
        var learners = conf.Learners.ToHashSet();
        var targetVoters = target.Voters.ToHashSet();
        var targetAll = target.Voters.Concat(target.Learners).ToHashSet();
        bool Live(ulong id) => id == self || active.Contains(id);
        bool CaughtUp(ulong id) => id == self || (Live(id) && match.TryGetValue(id, out var m) && m > 0 && m + maxLag >= lastIndex);
        bool KeepsQuorum(IEnumerable<ulong> next)
        {
            var voting = next.ToList();
            return voting.Count(Live) > voting.Count / 2;
        }

        if (targetAll.Where(id => !voters.Contains(id) && !learners.Contains(id)).Order().FirstOrDefault() is var missing and > 0)
        {
            return ReconcileStep.Change("add-learner", ConfChange.Single(ConfChangeType.AddLearner, missing), $"add node {missing} as a learner");
        }

        var displaced = voters.Where(v => !targetVoters.Contains(v)).Order().ToList();
        var promotable = target.Voters.Where(id => learners.Contains(id) && CaughtUp(id)).Order().ToList();
        if (promotable.Count > 0 && (displaced.Count > 0 || voters.Count < targetVoters.Count))
        {
            var promote = promotable[0];
            if (displaced.Count == 0)
            {
                return KeepsQuorum(voters.Append(promote))
                    ? ReconcileStep.Change("promote", ConfChange.Single(ConfChangeType.AddNode, promote), $"promote node {promote} to voter")
                    : ReconcileStep.None;
            }

            return Displace(displaced, voters, targetVoters, self, Live, CaughtUp, d => !KeepsQuorum(voters.Where(v => v != d).Append(promote)) ? ReconcileStep.None : ReconcileStep.Change(
                "replace-voter",
                new ConfChange(ConfChangeTransition.Auto, [new ConfChangeSingle(ConfChangeType.AddNode, promote), Demotion(d, targetAll)]),
                $"promote node {promote} to voter and {Verb(d, targetAll)} node {d}"));
        }

        if (displaced.Count > 0 && voters.Count > targetVoters.Count)
        {
            return Displace(displaced, voters, targetVoters, self, Live, CaughtUp, d => !KeepsQuorum(voters.Where(v => v != d)) ? ReconcileStep.None : ReconcileStep.Change(
                Verb(d, targetAll) + "-voter",
                new ConfChange(ConfChangeTransition.Auto, [Demotion(d, targetAll)]),
                $"{Verb(d, targetAll)} voter {d}"));
        }

        if (learners.Where(id => !targetAll.Contains(id)).Order().FirstOrDefault() is var departed and > 0)
        {
            return ReconcileStep.Change("remove-learner", ConfChange.Single(ConfChangeType.RemoveNode, departed), $"remove learner {departed}, which left the cluster");
        }

        return ReconcileStep.None;
    }

    /// <summary>The first step that displaces a voter other than this leader (dead ones first), else a hand-over if this leader is to go.</summary>
    private static ReconcileStep Displace(
        List<ulong> displaced,
        HashSet<ulong> voters,
        HashSet<ulong> targetVoters,
        ulong self,
        Func<ulong, bool> live,
        Func<ulong, bool> caughtUp,
        Func<ulong, ReconcileStep> step)
    {
        foreach (var voter in displaced.Where(d => d != self).OrderBy(live))
        {
            if (step(voter) is { IsNone: false } next)
            {
                return next;
            }
        }

        if (!displaced.Contains(self))
        {
            return ReconcileStep.None;
        }

        // Only this leader can go: hand over to a caught-up voter that stays.
        var heir = voters.Where(v => v != self && targetVoters.Contains(v) && caughtUp(v)).Order().FirstOrDefault();
        return heir > 0 ? ReconcileStep.Transfer(heir, $"hand leadership to node {heir} before node {self} stops voting") : ReconcileStep.None;
    }

    private static ConfChangeSingle Demotion(ulong voter, HashSet<ulong> targetAll) =>
        new(targetAll.Contains(voter) ? ConfChangeType.AddLearner : ConfChangeType.RemoveNode, voter);

    private static string Verb(ulong voter, HashSet<ulong> targetAll) => targetAll.Contains(voter) ? "demote" : "remove";
}

/// <summary>
/// What <see cref="ShardReconciler"/> wants done next: nothing, a membership change, or a leadership
/// transfer. <see cref="Kind"/> names the step for metrics (add-learner, promote, replace-voter,
/// demote-voter, remove-voter, remove-learner, transfer).
/// </summary>
public sealed record ReconcileStep(string Kind, ConfChange? ConfChange, ulong TransferTo, string Description)
{
    public static readonly ReconcileStep None = new("none", null, 0, "nothing to do");

    public static ReconcileStep Change(string kind, ConfChange change, string description) => new(kind, change, 0, description);

    public static ReconcileStep Transfer(ulong to, string description) => new("transfer", null, to, description);

    public bool IsNone => ConfChange is null && TransferTo == 0;
}
