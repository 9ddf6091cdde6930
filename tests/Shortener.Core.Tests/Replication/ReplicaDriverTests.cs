using System.Text;
using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Core.Tests.Raft;

namespace Shortener.Core.Tests.Replication;

/// <summary>
/// The replica driver on its own: proposals and their retries, reads, the order of sends and
/// fsyncs, snapshots and the membership they record, fail-stop. Replicas are drivers over memory
/// disks in a <see cref="RaftNetwork"/>, pumped round by round.
/// </summary>
public class ReplicaDriverTests
{
    [Fact]
    public void A_proposal_is_answered_with_its_result_once_applied_on_the_leader_or_a_follower()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        var onLeader = net.Submit(1, "a");
        var onFollower = net.Submit(2, "b");
        net.Stabilize();

        Assert.Equal("a", Assert.Single(onLeader).Result);
        Assert.Equal("b", Assert.Single(onFollower).Result);
        Assert.All(net.Ids, id => Assert.Equal(["a", "b"], net.StateMachine(id).Applied.Where(e => e.Data.Length > 0).Select(e => Encoding.UTF8.GetString(e.Data))));
    }

    [Fact]
    public void Without_a_leader_a_proposal_waits_and_goes_in_once_one_is_elected()
    {
        var net = new RaftNetwork(3);
        var outcomes = net.Submit(2, "early");
        net.Stabilize();
        Assert.Empty(outcomes);

        net.Campaign(1);
        net.TickAll(1);
        Assert.True(Assert.Single(outcomes).Applied);
    }

    [Fact]
    public void A_proposal_no_leader_took_fails_at_its_deadline_as_not_applied()
    {
        var net = new RaftNetwork(3, replica: o => o with { RequestTimeoutTicks = 15 });
        net.Isolate(2);
        var outcomes = net.Submit(2, "lonely");
        for (var i = 0; i < 14; i++)
        {
            net.Tick(2);
            net.Stabilize();
        }

        Assert.Empty(outcomes);
        net.Tick(2);
        var outcome = Assert.Single(outcomes);
        Assert.False(outcome.Applied);
        Assert.False(outcome.MayHaveApplied);
        Assert.Contains("no leader took it", outcome.Failure);
    }

    [Fact]
    public void A_proposal_handed_to_a_leader_and_not_applied_by_its_deadline_may_have_applied()
    {
        var net = new RaftNetwork(3, replica: o => o with { RequestTimeoutTicks = 15 });
        net.Campaign(1);
        net.Isolate(1);
        var outcomes = net.Submit(1, "stuck");
        for (var i = 0; i < 15; i++)
        {
            net.Tick(1);
            net.Stabilize();
        }

        var outcome = Assert.Single(outcomes);
        Assert.False(outcome.Applied);
        Assert.True(outcome.MayHaveApplied);
    }

    [Fact]
    public void A_proposal_whose_leader_was_deposed_is_proposed_again_and_applied_once()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);

        // The leader appends and replicates the forwarded proposal but never hears back, so it
        // commits nothing; then it is cut off and another replica takes over.
        net.Filter = m => !(m.Type == MessageType.AppendResponse && m.To == 1);
        var outcomes = net.Submit(2, "x");
        net.Stabilize();
        Assert.Empty(outcomes);
        net.Filter = null;
        net.Isolate(1);
        for (var i = 0; i < 40 && net[2].Role != RaftRole.Leader && net[3].Role != RaftRole.Leader; i++)
        {
            net.TickAll(1);
        }

        net.TickAll(2);

        // The new leader committed the first copy and the re-proposal: the state machine applied one.
        var outcome = Assert.Single(outcomes);
        Assert.Equal("x", outcome.Result);
        var copies = net.Storage(2).Entries(net.Storage(2).FirstIndex, net.Storage(2).LastIndex + 1, long.MaxValue).Count(e => e.Data.Length > 0);
        Assert.Equal(2, copies);
        Assert.Equal(1, net.StateMachine(2).Duplicates);
        Assert.Single(net.StateMachine(2).Applied, e => e.Data.Length > 0);
    }

    [Fact]
    public void A_proposal_withdrawn_by_its_caller_is_not_proposed_again_after_its_leader_is_deposed()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);

        // The leader appends but is cut off before the entry replicates; its caller gives up.
        net.Isolate(1);
        var outcomes = new List<ProposalOutcome<string>>();
        var id = net.Driver(1).Propose(Encoding.UTF8.GetBytes("given-up"), outcomes.Add);
        net.Stabilize();
        net.Driver(1).Withdraw(id!.Value);
        var outcome = Assert.Single(outcomes);
        Assert.False(outcome.Applied);
        Assert.True(outcome.MayHaveApplied);
        Assert.Contains("withdrawn", outcome.Failure);

        // Another replica takes over; healed, the old leader follows it and does not send its
        // withdrawn proposal along: nothing of it is ever applied anywhere.
        for (var i = 0; i < 40 && net[2].Role != RaftRole.Leader && net[3].Role != RaftRole.Leader; i++)
        {
            net.TickAll(1);
        }

        net.Heal();
        net.TickAll(5);
        Assert.Equal(RaftRole.Follower, net[1].Role);
        Assert.All(net.Ids, n => Assert.DoesNotContain(net.Applied(n), e => Encoding.UTF8.GetString(e.Data).Contains("given-up")));
        Assert.Single(outcomes);

        // Withdrawing again, or an id it no longer holds, changes nothing.
        net.Driver(1).Withdraw(id.Value);
        Assert.Single(outcomes);
    }

    [Fact]
    public void With_the_planted_bug_a_proposal_handed_to_a_deposed_leader_is_never_answered()
    {
        var net = new RaftNetwork(3, replica: o => o with { Bugs = ReplicaBugs.DropProposalsOnLeaderChange, RequestTimeoutTicks = 30 });
        net.Campaign(1);
        net.Isolate(1);
        var outcomes = net.Submit(2, "x");
        net.Stabilize();
        for (var i = 0; i < 60; i++)
        {
            net.TickAll(1);
        }

        Assert.Empty(outcomes);
    }

    [Fact]
    public void Reads_arriving_in_one_round_share_one_request_and_are_answered_once_applied()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Propose(1, "x");
        net.Delivered.Clear();
        net.Read(1, "r1");
        net.Read(1, "r2");
        net.Read(1, "r3");
        net.Stabilize();

        Assert.Equal(["r1", "r2", "r3"], net.Reads(1).Select(r => r.Label));
        Assert.All(net.Reads(1), r => Assert.Equal(net[1].Committed, r.Index));
        var contexts = net.Delivered.Where(m => m.Type == MessageType.Heartbeat && m.Context.Length > 0).Select(m => Convert.ToHexString(m.Context)).Distinct();
        Assert.Single(contexts);
    }

    [Fact]
    public void A_read_whose_answer_was_lost_is_asked_again()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.Filter = m => m.Type != MessageType.ReadIndexResponse;
        net.Read(2, "f");
        net.Stabilize();
        Assert.Empty(net.Reads(2));

        net.Filter = null;
        net.TickAll(20);
        Assert.Single(net.Reads(2));
        Assert.Empty(net.FailedReads(2));
    }

    [Fact]
    public void A_read_the_leader_cannot_confirm_fails_at_its_deadline()
    {
        var net = new RaftNetwork(3, replica: o => o with { RequestTimeoutTicks = 8 });
        net.Campaign(1);
        net.Isolate(1);
        net.Read(1, "cut-off");
        for (var i = 0; i < 8; i++)
        {
            net.Tick(1);
            net.Stabilize();
        }

        Assert.Empty(net.Reads(1));
        Assert.Equal("cut-off", Assert.Single(net.FailedReads(1)).Label);
    }

    [Fact]
    public void A_leader_sends_its_appends_before_its_own_fsync_but_a_follower_answers_only_after_its_own()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        net.ProposeQuietly(1, "x");
        var leader = net.Driver(1);
        Assert.Equal(RoundStart.MustSync, leader.BeginRound());
        var appends = net.InFlight.Where(m => m.Type == MessageType.Append && m.Entries.Count > 0).ToList();
        Assert.Equal(2, appends.Count);
        leader.EndRound();

        var follower = net.Driver(2);
        follower.Step(appends.Single(m => m.To == 2));
        Assert.Equal(RoundStart.MustSync, follower.BeginRound());
        Assert.DoesNotContain(net.InFlight, m => m.From == 2);
        follower.EndRound();
        Assert.Contains(net.InFlight, m => m.From == 2 && m.Type == MessageType.AppendResponse);
    }

    [Fact]
    public void A_vote_leaves_only_once_it_is_written()
    {
        var net = new RaftNetwork(3, (_, c) => c with { PreVote = false });
        var candidate = net.Collect(1);
        Assert.Empty(candidate);
        net.Driver(1).Request(n =>
        {
            n.Campaign();
            return 0;
        });
        var votes = net.Collect(1);
        var voter = net.Driver(2);
        voter.Step(votes.Single(m => m.To == 2));
        Assert.Equal(RoundStart.MustSync, voter.BeginRound());
        Assert.DoesNotContain(net.InFlight, m => m.From == 2);
        voter.EndRound();
        Assert.Contains(net.InFlight, m => m.From == 2 && m.Type == MessageType.VoteResponse && !m.Reject);
    }

    [Fact]
    public void With_the_planted_bug_a_follower_acknowledges_before_its_fsync()
    {
        var net = new RaftNetwork(3, replica: o => o with { Bugs = ReplicaBugs.SendBeforeFsync });
        net.Campaign(1);
        net.ProposeQuietly(1, "x");
        var appends = net.Collect(1).Where(m => m.Type == MessageType.Append).ToList();
        var follower = net.Driver(2);
        follower.Step(appends.Single(m => m.To == 2));
        follower.BeginRound();
        Assert.Contains(net.InFlight, m => m.From == 2 && m.Type == MessageType.AppendResponse);
        follower.EndRound();
    }

    [Fact]
    public void With_the_planted_bug_a_leader_cut_off_from_its_quorum_acknowledges_what_never_commits()
    {
        var net = new RaftNetwork(3, replica: o => o with { Bugs = ReplicaBugs.AckBeforeApply });
        net.Campaign(1);
        net.Isolate(1);
        var outcomes = net.Submit(1, "never");
        net.Stabilize();
        Assert.True(Assert.Single(outcomes).Applied);
        Assert.DoesNotContain(net.StateMachine(1).Applied, e => Encoding.UTF8.GetString(e.Data) == "never");
    }

    [Fact]
    public void Every_few_entries_the_state_is_captured_and_the_log_compacted_keeping_a_tail()
    {
        var net = new RaftNetwork(3, replica: o => o with { SnapshotEntries = 10, SnapshotKeepEntries = 3 });
        net.Campaign(1);
        for (var i = 0; i < 12; i++)
        {
            net.Propose(1, $"e{i}");
        }

        foreach (var id in net.Ids)
        {
            var snapshot = net.Storage(id).Snapshot();
            Assert.True(snapshot.Metadata.Index >= 11, $"replica {id} snapshot at {snapshot.Metadata.Index}");
            Assert.Equal(snapshot.Metadata.Index - 3 + 1, net.Storage(id).FirstIndex);
            Assert.Equal([1UL, 2, 3], snapshot.Metadata.ConfState.Voters);
        }
    }

    [Fact]
    public void A_snapshot_captured_before_a_membership_change_records_the_membership_of_its_own_index()
    {
        var net = new RaftNetwork(3);
        net.Campaign(1);
        for (var i = 0; i < 5; i++)
        {
            net.Propose(1, $"e{i}");
        }

        // The capture of this index runs off the driver's thread; meanwhile a learner is added.
        var captured = net[1].Applied;
        net.Add(4, ConfState.Empty);
        net.Driver(1).Request(n => n.ProposeConfChange(ConfChange.Single(ConfChangeType.AddLearner, 4)));
        net.Stabilize();
        Assert.Contains(4UL, net[1].ConfState.Learners);

        net.Driver(1).SnapshotCaptured(new CapturedSnapshot(captured, [1]));
        var snapshot = net.Storage(1).Snapshot();
        Assert.Equal(captured, snapshot.Metadata.Index);
        Assert.DoesNotContain(4UL, snapshot.Metadata.ConfState.Learners);

        // A capture of a later index records the membership with the learner; an older one is ignored.
        net.Driver(1).SnapshotCaptured(new CapturedSnapshot(net[1].Applied, [2]));
        Assert.Contains(4UL, net.Storage(1).Snapshot().Metadata.ConfState.Learners);
        net.Driver(1).SnapshotCaptured(new CapturedSnapshot(captured, [3]));
        Assert.Equal([2], net.Storage(1).Snapshot().Data);
    }

    [Fact]
    public void A_lagging_replica_installs_the_leaders_snapshot_and_resumes_from_it()
    {
        var net = new RaftNetwork(3, replica: o => o with { SnapshotEntries = 5, SnapshotKeepEntries = 0 });
        net.Campaign(1);
        net.Isolate(3);
        for (var i = 0; i < 12; i++)
        {
            net.Propose(1, $"e{i}");
        }

        net.Heal();
        net.TickAll(3);
        Assert.Equal(net[1].Committed, net[3].Applied);
        Assert.True(net.StateMachine(3).Applied[0].Data.Length > 0, "replica 3 caught up without a snapshot");
        Assert.Equal(net.Storage(1).Snapshot().Metadata.ConfState.Voters, net.Driver(3).Status.Config.Voters);

        net.Restart(3);
        net.Propose(1, "after");
        Assert.Equal("after", Encoding.UTF8.GetString(net.StateMachine(3).Applied[^1].Data));
    }

    [Fact]
    public void A_state_machine_that_fails_stops_the_replica_and_fails_its_requests()
    {
        var net = new RaftNetwork(3) { ThrowWhenStopped = false };
        net.Campaign(1);
        net.StateMachine(2).FailNextApply = new IOException("disk on fire");
        var outcomes = net.Submit(2, "x");
        net.Stabilize();

        Assert.NotNull(net.Driver(2).Failure);
        Assert.True(net.Driver(2).Status.Failed);
        var outcome = Assert.Single(outcomes);
        Assert.False(outcome.Applied);
        Assert.True(outcome.MayHaveApplied);

        var after = net.Submit(2, "y");
        Assert.False(Assert.Single(after).MayHaveApplied);
        net.Read(2, "r");
        Assert.Single(net.FailedReads(2));

        // The others go on.
        Assert.Equal("z", Assert.Single(net.Submit(3, "z").Also(_ => net.Stabilize())).Result);
    }

    [Fact]
    public void An_entry_that_is_not_a_framed_proposal_stops_every_replica_rather_than_being_skipped()
    {
        var net = new RaftNetwork(3) { ThrowWhenStopped = false };
        net.Campaign(1);
        net.Driver(1).Request(n => n.Propose([9, 9, 9]));
        net.Stabilize();
        Assert.All(net.Ids, id => Assert.IsType<InvalidDataException>(net.Driver(id).Failure));
    }

    [Fact]
    public void A_state_machine_behind_the_stored_snapshot_is_restored_from_it_before_the_engine_starts()
    {
        var disk = new MemoryRaftDisk();
        ReplicaDriver<string>.Bootstrap(disk, ConfState.Of(1));
        disk.Storage.ApplySnapshot(new RaftSnapshot(new SnapshotMetadata(10, 2, ConfState.Of(1)), Encoding.UTF8.GetBytes("state at 10")));
        var stateMachine = new RecordingStateMachine();
        var driver = new ReplicaDriver<string>(new ReplicaOptions { Raft = new RaftConfig { Id = 1, Random = new SeededRandom(1) }, Proposer = 1 }, disk, stateMachine, new NoTransport());
        Assert.Equal(10UL, stateMachine.AppliedIndex);
        Assert.Equal(10UL, driver.Raft.Applied);

        // Alone, it elects itself at once and goes on from there.
        Assert.Equal(RaftRole.Leader, driver.Raft.Role);
        var outcomes = new List<ProposalOutcome<string>>();
        driver.Propose("next"u8, outcomes.Add);
        while (driver.HasWork)
        {
            driver.RunRound();
        }

        Assert.Equal("next", Assert.Single(outcomes).Result);
        Assert.Equal(12UL, stateMachine.AppliedIndex);
    }

    [Fact]
    public void Bootstrap_writes_only_an_empty_disk()
    {
        var disk = new MemoryRaftDisk();
        Assert.True(ReplicaDriver<string>.Bootstrap(disk, ConfState.Of(1, 2, 3)));
        Assert.False(ReplicaDriver<string>.Bootstrap(disk, ConfState.Of(4)));
        Assert.Equal([1UL, 2, 3], disk.Storage.Snapshot().Metadata.ConfState.Voters);
        Assert.Equal(new HardState(1, 0, 1), disk.Storage.HardState);
    }

    [Fact]
    public void Proposals_and_reads_beyond_the_limits_are_refused_at_once()
    {
        var net = new RaftNetwork(3, replica: o => o with { MaxPendingProposals = 2, MaxPendingReads = 1 });
        var first = net.Submit(2, "a");
        var second = net.Submit(2, "b");
        var third = net.Submit(2, "c");
        Assert.Empty(first);
        Assert.Empty(second);
        var refused = Assert.Single(third);
        Assert.False(refused.MayHaveApplied);
        Assert.Contains("too many proposals", refused.Failure);

        net.Read(2, "r1");
        net.Read(2, "r2");
        Assert.Equal("r2", Assert.Single(net.FailedReads(2)).Label);
    }

    private sealed class NoTransport : IRaftTransport
    {
        public void Send(RaftMessage message)
        {
        }
    }
}

internal static class TestExtensions
{
    /// <summary>Runs <paramref name="action"/> and passes <paramref name="value"/> on (to settle a network between submit and assert).</summary>
    public static T Also<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }
}
