using Shortener.Core.Cluster;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;

namespace Shortener.Node.Tests.Cluster;

public class MembershipChangesTests
{
    private static ClusterMember Member(ulong id, string dc = "dc1") => new(id, dc, $"http://127.0.0.1:{9000 + id}", $"http://127.0.0.1:{8000 + id}");

    private static ClusterTopology Three() => new([Member(1), Member(2, "dc2"), Member(3, "dc3")], 4, 3, 42, 7);

    [Fact]
    public void Adding_gives_the_next_list_and_adding_the_same_member_again_changes_nothing()
    {
        var topology = Three();
        var added = MembershipChanges.Add(topology, Member(4), canGrow: true)!;
        Assert.Equal([1UL, 2, 3, 4], added.Members.Select(m => m.Id));
        Assert.Equal(4UL, added.HighestId);

        var after = topology.WithMembers(added, 1);
        Assert.Null(MembershipChanges.Add(after, Member(4), canGrow: true));
        Assert.Equal(topology.Members, after.Founders);
        Assert.Equal(5UL, after.NextId);
    }

    [Fact]
    public void Ids_in_use_or_used_before_and_bad_addresses_are_refused()
    {
        var topology = Three();
        Assert.Equal(MembershipRefusal.Conflict, Assert.Throws<MembershipRefusedException>(() => MembershipChanges.Add(topology, Member(2) with { Dc = "dc9" }, true)).Refusal);
        Assert.Equal(MembershipRefusal.Invalid, Assert.Throws<MembershipRefusedException>(() => MembershipChanges.Add(topology, Member(4) with { PeerUrl = "nope" }, true)).Refusal);
        Assert.Equal(MembershipRefusal.Invalid, Assert.Throws<MembershipRefusedException>(() => MembershipChanges.Add(topology, Member(4) with { PeerUrl = Member(1).PeerUrl }, true)).Refusal);

        // Addresses a gRPC channel cannot dial would stop shard 0 on every node once applied.
        foreach (var url in new[] { "ftp://127.0.0.1:9004", "foo:bar", "dns:///peer" })
        {
            Assert.Equal(MembershipRefusal.Invalid, Assert.Throws<MembershipRefusedException>(() => MembershipChanges.Add(topology, Member(4) with { PeerUrl = url }, true)).Refusal);
        }

        // Ids must not run out: one far past the next free id is refused.
        Assert.Equal(MembershipRefusal.Invalid, Assert.Throws<MembershipRefusedException>(() => MembershipChanges.Add(topology, Member(ulong.MaxValue), true)).Refusal);

        // Node 3 removed: its id is never given again.
        var leaving = topology.WithMembers(MembershipChanges.Leave(topology, 3)!, 1);
        var gone = leaving.WithMembers(MembershipChanges.Drop(leaving, 3)!, 2);
        var reused = Assert.Throws<MembershipRefusedException>(() => MembershipChanges.Add(gone, Member(3), true));
        Assert.Contains("never reused; the next free id is 4", reused.Message);
    }

    [Fact]
    public void A_lone_node_without_secret_and_peer_address_cannot_grow()
    {
        var alone = new ClusterTopology([Member(1)], 4, 3, 42, 7);
        Assert.Equal(MembershipRefusal.Conflict, Assert.Throws<MembershipRefusedException>(() => MembershipChanges.Add(alone, Member(2), canGrow: false)).Refusal);
    }

    [Fact]
    public void Removal_marks_leaving_first_then_drops_and_repeats_harmlessly()
    {
        var topology = Three();
        var leaving = topology.WithMembers(MembershipChanges.Leave(topology, 2)!, 1);
        Assert.True(leaving.Member(2)!.Leaving);
        Assert.DoesNotContain(leaving.Placement(), p => p.Voters.Contains(2UL) || p.Learners.Contains(2UL));
        Assert.Null(MembershipChanges.Leave(leaving, 2));

        var gone = leaving.WithMembers(MembershipChanges.Drop(leaving, 2)!, 2);
        Assert.Null(gone.Member(2));
        Assert.Null(MembershipChanges.Leave(gone, 2));
        Assert.Null(MembershipChanges.Drop(gone, 2));
        Assert.Null(MembershipChanges.Drop(topology, 1));
        Assert.Equal(MembershipRefusal.NotFound, Assert.Throws<MembershipRefusedException>(() => MembershipChanges.Leave(topology, 9)).Refusal);
    }

    [Fact]
    public void The_last_member_cannot_leave()
    {
        var topology = Three();
        topology = topology.WithMembers(MembershipChanges.Leave(topology, 1)!, 1);
        topology = topology.WithMembers(MembershipChanges.Leave(topology, 2)!, 2);
        Assert.Equal(MembershipRefusal.Conflict, Assert.Throws<MembershipRefusedException>(() => MembershipChanges.Leave(topology, 3)).Refusal);
    }

    [Fact]
    public void The_member_list_round_trips_through_its_document()
    {
        var membership = new ClusterMembership([Member(1), Member(2, "dc2") with { Leaving = true }], 7);
        var back = ClusterMembership.Parse(membership.Serialize());
        Assert.Equal(membership.Members, back.Members);
        Assert.Equal(7UL, back.HighestId);
    }
}
