namespace Shortener.Core.Raft;

/// <summary>
/// Computes the configuration that results from a <see cref="ConfChange"/>, with the progress map to
/// go with it (existing entries are shared, new members get fresh ones; nothing already tracked is
/// modified, so <see cref="Check"/> is a dry run; the caller sets learner flags when it switches). Refuses changes that would break joint consensus: more than one voter changed
/// without a joint configuration, entering a joint configuration twice, leaving one that was never
/// entered, or ending with no voters.
/// </summary>
public sealed class ConfChanger(ProgressTracker tracker, ulong lastIndex)
{
    public (TrackerConfig Config, Dictionary<ulong, Progress> Progress) Apply(ConfChange change)
    {
        if (change.IsLeaveJoint)
        {
            return LeaveJoint();
        }

        var (joint, autoLeave) = change.EntersJoint();
        return joint ? EnterJoint(autoLeave, change.Changes) : Simple(change.Changes);
    }

    /// <summary>Null if <paramref name="change"/> can be applied to the current configuration, else why not.</summary>
    public string? Check(ConfChange change)
    {
        try
        {
            Apply(change);
            return null;
        }
        catch (InvalidOperationException e)
        {
            return e.Message;
        }
    }

    private (TrackerConfig, Dictionary<ulong, Progress>) Simple(IReadOnlyList<ConfChangeSingle> changes)
    {
        if (tracker.Config.Voters.IsJoint)
        {
            throw new InvalidOperationException("a simple change cannot be made while in a joint configuration");
        }

        var (incoming, learners, learnersNext, progress) = Copy();
        ApplyChanges(changes, incoming, new HashSet<ulong>(), learners, learnersNext, progress);
        var before = tracker.Config.Voters.Incoming;
        if (before.Except(incoming).Count() + incoming.Except(before).Count() > 1)
        {
            throw new InvalidOperationException("more than one voter changed without joint consensus");
        }

        return Checked(new TrackerConfig(new JointConfig(incoming, new HashSet<ulong>()), learners, learnersNext, false), progress);
    }

    private (TrackerConfig, Dictionary<ulong, Progress>) EnterJoint(bool autoLeave, IReadOnlyList<ConfChangeSingle> changes)
    {
        if (tracker.Config.Voters.IsJoint)
        {
            throw new InvalidOperationException("already in a joint configuration");
        }

        if (tracker.Config.Voters.Incoming.Count == 0)
        {
            throw new InvalidOperationException("cannot enter a joint configuration from an empty one");
        }

        var (incoming, learners, learnersNext, progress) = Copy();
        var outgoing = new HashSet<ulong>(incoming);
        ApplyChanges(changes, incoming, outgoing, learners, learnersNext, progress);
        return Checked(new TrackerConfig(new JointConfig(incoming, outgoing), learners, learnersNext, autoLeave), progress);
    }

    private (TrackerConfig, Dictionary<ulong, Progress>) LeaveJoint()
    {
        if (!tracker.Config.Voters.IsJoint)
        {
            throw new InvalidOperationException("not in a joint configuration");
        }

        var (incoming, learners, learnersNext, progress) = Copy();
        learners.UnionWith(learnersNext);

        foreach (var id in tracker.Config.Voters.Outgoing)
        {
            if (!incoming.Contains(id) && !learners.Contains(id))
            {
                progress.Remove(id);
            }
        }

        return Checked(new TrackerConfig(new JointConfig(incoming, new HashSet<ulong>()), learners, new HashSet<ulong>(), false), progress);
    }

    private void ApplyChanges(
        IReadOnlyList<ConfChangeSingle> changes,
        HashSet<ulong> incoming,
        HashSet<ulong> outgoing,
        HashSet<ulong> learners,
        HashSet<ulong> learnersNext,
        Dictionary<ulong, Progress> progress)
    {
        foreach (var change in changes)
        {
            if (change.NodeId == 0)
            {
                continue;
            }

            switch (change.Type)
            {
                case ConfChangeType.AddNode:
                    incoming.Add(change.NodeId);
                    learners.Remove(change.NodeId);
                    learnersNext.Remove(change.NodeId);
                    Ensure(progress, change.NodeId);
                    break;
                case ConfChangeType.AddLearner:
                    incoming.Remove(change.NodeId);
                    if (outgoing.Contains(change.NodeId))
                    {
                        // Still a voter of the outgoing side: becomes a learner when the joint configuration is left.
                        learnersNext.Add(change.NodeId);
                        Ensure(progress, change.NodeId);
                    }
                    else
                    {
                        learners.Add(change.NodeId);
                        Ensure(progress, change.NodeId);
                    }

                    break;
                case ConfChangeType.RemoveNode:
                    incoming.Remove(change.NodeId);
                    learners.Remove(change.NodeId);
                    learnersNext.Remove(change.NodeId);
                    if (!outgoing.Contains(change.NodeId))
                    {
                        progress.Remove(change.NodeId);
                    }

                    break;
            }
        }
    }

    private (TrackerConfig, Dictionary<ulong, Progress>) Checked(TrackerConfig config, Dictionary<ulong, Progress> progress)
    {
        if (config.Voters.Incoming.Count == 0)
        {
            throw new InvalidOperationException("the change removes every voter");
        }

        if (config.Learners.Overlaps(config.Voters.AllVoters))
        {
            throw new InvalidOperationException("a node cannot be both voter and learner");
        }

        return (config, progress);
    }

    private (HashSet<ulong> Incoming, HashSet<ulong> Learners, HashSet<ulong> LearnersNext, Dictionary<ulong, Progress> Progress) Copy() =>
        (new HashSet<ulong>(tracker.Config.Voters.Incoming),
         new HashSet<ulong>(tracker.Config.Learners),
         new HashSet<ulong>(tracker.Config.LearnersNext),
         new Dictionary<ulong, Progress>(tracker.Progress));

    private Progress Ensure(Dictionary<ulong, Progress> progress, ulong id)
    {
        if (!progress.TryGetValue(id, out var p))
        {
            // A new member starts probing from the end of the leader's log, and counts as active so
            // that adding it cannot make the leader step down before it answers.
            p = new Progress(Math.Max(lastIndex, 1), tracker.MaxInflight, isLearner: false) { RecentActive = true };
            progress[id] = p;
        }

        return p;
    }
}
