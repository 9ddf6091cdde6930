using Shortener.Core.Membership;

namespace Shortener.Core.Tests.Membership;

/// <summary>One <see cref="SwimNode"/> driven by hand: each test plays the other members' part.</summary>
public class SwimNodeTests
{
    private static readonly GossipSettings Settings = new() { GossipIntervalTicks = 1_000, PushPullIntervalTicks = 10_000 };

    private static GossipMember Member(ulong id, ulong incarnation = 0, MemberStatus status = MemberStatus.Alive) =>
        new(id, "dc1", $"http://n{id}:9080", $"http://n{id}:8080", [], incarnation, status);

    private static SwimNode Start(int others = 4)
    {
        var node = new SwimNode(Member(1), Settings, new SeededRandom(1));
        node.Join(Enumerable.Range(2, others).Select(i => Member((ulong)i)), syncWith: 0);
        node.TakeMessages();
        node.TakeEvents();
        return node;
    }

    /// <summary>Ticks until the node sends a ping; returns it.</summary>
    private static GossipMessage NextPing(SwimNode node)
    {
        for (var i = 0; i < 100; i++)
        {
            node.Tick();
            if (node.TakeMessages().FirstOrDefault(m => m.Type == GossipMessageType.Ping) is { } ping)
            {
                return ping;
            }
        }

        throw new InvalidOperationException("no ping in 100 ticks");
    }

    [Fact]
    public void Phi_decides_reachability_while_swim_still_counts_the_member_up_and_the_threshold_moves_the_decision()
    {
        // Every member answers every probe; node 3 also sends a message every 10 ticks (1 s), then
        // goes quiet and stops answering. SWIM still counts it up (a suspicion takes several probe
        // rounds to become death), while phi says within seconds that its silence is not its rhythm.
        var node = Start();
        var quiet = false;
        void Tick()
        {
            node.Tick();
            foreach (var ping in node.TakeMessages().Where(m => m.Type == GossipMessageType.Ping && !(quiet && m.To == 3)))
            {
                node.Step(new GossipMessage(GossipMessageType.Ack, ping.To, 1) { Seq = ping.Seq });
            }
        }

        for (var beat = 0; beat < 30; beat++)
        {
            node.Step(new GossipMessage(GossipMessageType.Ack, 3, 1) { Seq = 0 });
            for (var t = 0; t < 10; t++)
            {
                Tick();
            }
        }

        Assert.True(node.IsReachable(3, phiThreshold: 8));
        Assert.True(node.IsReachable(1, phiThreshold: 8), "a node always reaches itself");

        quiet = true;
        var ticks = 0;
        while (node.IsReachable(3, phiThreshold: 8))
        {
            Tick();
            Assert.True(++ticks < 200, "phi never passed 8");
        }

        Assert.True(node.Member(3)!.IsUp, $"SWIM already counts node 3 {node.Member(3)!.Status} after {ticks} ticks");
        Assert.True(node.Phi(3) >= 8);

        // The same silence under a higher threshold is not yet enough.
        Assert.True(node.IsReachable(3, phiThreshold: node.Phi(3) + 1));

        // Heard from again, it is reachable at once.
        node.Step(new GossipMessage(GossipMessageType.Ack, 3, 1) { Seq = 0 });
        Assert.True(node.IsReachable(3, phiThreshold: 8));
    }

    [Fact]
    public void A_member_swim_counts_dead_is_unreachable_whatever_its_phi()
    {
        var node = Start();
        node.Step(new GossipMessage(GossipMessageType.Gossip, 2, 1) { Updates = [new MemberUpdate(Member(4, incarnation: 0, status: MemberStatus.Dead), 2)] });
        Assert.Equal(MemberStatus.Dead, node.Member(4)!.Status);
        Assert.False(node.IsReachable(4, phiThreshold: double.MaxValue));
        Assert.False(node.IsReachable(99, phiThreshold: double.MaxValue), "a member never heard of is not reachable");
    }

    [Fact]
    public void A_ping_is_answered_with_an_ack_of_the_same_sequence()
    {
        var node = Start();
        node.Step(new GossipMessage(GossipMessageType.Ping, 3, 1) { Seq = 77 });
        var ack = Assert.Single(node.TakeMessages());
        Assert.Equal((GossipMessageType.Ack, 3UL, 77UL), (ack.Type, ack.To, ack.Seq));
    }

    [Fact]
    public void A_missed_ack_brings_indirect_probes_then_suspicion_then_death()
    {
        var node = Start();
        var ping = NextPing(node);
        var target = ping.To;
        var requests = new List<GossipMessage>();
        for (var i = 0; i < Settings.ProbeTimeoutTicks; i++)
        {
            node.Tick();
            requests.AddRange(node.TakeMessages().Where(m => m.Type == GossipMessageType.PingReq));
        }

        Assert.Equal(3, requests.Count);
        Assert.All(requests, r => Assert.Equal((target, ping.Seq), (r.Target, r.Seq)));
        Assert.DoesNotContain(requests, r => r.To == target);

        while (node.Member(target)!.Status == MemberStatus.Alive)
        {
            node.Tick();
        }

        Assert.Equal(MemberStatus.Suspect, node.Member(target)!.Status);
        var suspectedAt = node.Ticks;
        while (node.Member(target)!.Status == MemberStatus.Suspect)
        {
            node.Tick();
        }

        Assert.Equal(MemberStatus.Dead, node.Member(target)!.Status);
        // No confirmations: the longest suspicion (4 x log10(5) -> 4 probe intervals, times 6).
        Assert.Equal(4 * Settings.ProbeIntervalTicks * Settings.SuspicionMaxMultiplier, node.Ticks - suspectedAt);
        Assert.Contains(node.TakeEvents(), e => e.Member.Id == target && e.Member.Status == MemberStatus.Dead && e.Previous == MemberStatus.Suspect);
    }

    [Fact]
    public void An_ack_relayed_by_another_member_saves_the_target()
    {
        var node = Start();
        var ping = NextPing(node);
        for (var i = 0; i < Settings.ProbeTimeoutTicks; i++)
        {
            node.Tick();
        }

        var helper = node.TakeMessages().First(m => m.Type == GossipMessageType.PingReq).To;
        node.Step(new GossipMessage(GossipMessageType.Ack, helper, 1) { Seq = ping.Seq });
        for (var i = 0; i < Settings.ProbeIntervalTicks; i++)
        {
            node.Tick();
        }

        Assert.Equal(MemberStatus.Alive, node.Member(ping.To)!.Status);
    }

    [Fact]
    public void A_ping_request_is_relayed_and_the_targets_ack_goes_back_to_the_requester()
    {
        var node = Start();
        node.Step(new GossipMessage(GossipMessageType.PingReq, 2, 1) { Seq = 9, Target = 3 });
        var relay = Assert.Single(node.TakeMessages());
        Assert.Equal((GossipMessageType.Ping, 3UL), (relay.Type, relay.To));
        node.Step(new GossipMessage(GossipMessageType.Ack, 3, 1) { Seq = relay.Seq });
        node.Step(new GossipMessage(GossipMessageType.Ack, 3, 1) { Seq = relay.Seq }); // a duplicate is dropped
        var back = Assert.Single(node.TakeMessages());
        Assert.Equal((GossipMessageType.Ack, 2UL, 9UL), (back.Type, back.To, back.Seq));
    }

    [Fact]
    public void Confirmations_from_other_members_shorten_the_suspicion()
    {
        var lone = Start();
        var confirmed = Start();
        foreach (var node in new[] { lone, confirmed })
        {
            node.Step(new GossipMessage(GossipMessageType.Gossip, 2, 1) { Updates = [new MemberUpdate(Member(5, 0, MemberStatus.Suspect), 2)] });
        }

        confirmed.Step(new GossipMessage(GossipMessageType.Gossip, 3, 1) { Updates = [new MemberUpdate(Member(5, 0, MemberStatus.Suspect), 3)] });
        confirmed.Step(new GossipMessage(GossipMessageType.Gossip, 4, 1) { Updates = [new MemberUpdate(Member(5, 0, MemberStatus.Suspect), 4)] });
        static long TicksToDeath(SwimNode n)
        {
            var start = n.Ticks;
            while (n.Member(5)!.Status != MemberStatus.Dead)
            {
                n.Tick();
            }

            return n.Ticks - start;
        }

        var loneTicks = TicksToDeath(lone);
        var confirmedTicks = TicksToDeath(confirmed);
        Assert.True(confirmedTicks < loneTicks / 2, $"confirmed {confirmedTicks} ticks, lone {loneTicks}");
    }

    [Fact]
    public void Suspicion_of_itself_is_refuted_with_a_higher_incarnation_gossiped_to_others()
    {
        var node = Start();
        node.Step(new GossipMessage(GossipMessageType.Gossip, 2, 1) { Updates = [new MemberUpdate(Member(1, 3, MemberStatus.Suspect), 2)] });
        Assert.Equal(4UL, node.Self.Incarnation);
        Assert.Equal(MemberStatus.Alive, node.Self.Status);
        var ping = NextPing(node);
        Assert.Contains(ping.Updates, u => u.Member.Id == 1 && u.Member.Incarnation == 4 && u.Member.Status == MemberStatus.Alive);

        // A stale accusation (lower incarnation) is ignored.
        node.Step(new GossipMessage(GossipMessageType.Gossip, 2, 1) { Updates = [new MemberUpdate(Member(1, 2, MemberStatus.Dead), 2)] });
        Assert.Equal(4UL, node.Self.Incarnation);
    }

    [Fact]
    public void Incarnations_order_what_is_said_about_a_member()
    {
        var node = Start();
        void Say(GossipMember m, ulong source) => node.Step(new GossipMessage(GossipMessageType.Gossip, 2, 1) { Updates = [new MemberUpdate(m, source)] });

        Say(Member(3, 1, MemberStatus.Suspect), 2);
        Assert.Equal(MemberStatus.Suspect, node.Member(3)!.Status);
        Say(Member(3, 0, MemberStatus.Alive), 3); // older news
        Assert.Equal(MemberStatus.Suspect, node.Member(3)!.Status);
        Say(Member(3, 2, MemberStatus.Alive), 3); // the refutation
        Assert.Equal((MemberStatus.Alive, 2UL), (node.Member(3)!.Status, node.Member(3)!.Incarnation));

        Say(Member(3, 2, MemberStatus.Dead), 2);
        Assert.Equal(MemberStatus.Dead, node.Member(3)!.Status);
        Say(Member(3, 2, MemberStatus.Alive), 3); // the same incarnation cannot undo a death
        Assert.Equal(MemberStatus.Dead, node.Member(3)!.Status);

        Say(Member(4, 0, MemberStatus.Left), 2); // only the member itself can say it left
        Assert.Equal(MemberStatus.Dead, node.Member(4)!.Status);
        Say(Member(4, 1, MemberStatus.Left), 4);
        Assert.Equal(MemberStatus.Left, node.Member(4)!.Status);
        Say(Member(4, 1, MemberStatus.Dead), 2);
        Assert.Equal(MemberStatus.Left, node.Member(4)!.Status);
    }

    [Fact]
    public void Push_pull_answers_with_the_whole_list_and_takes_a_peers_death_verdict_as_suspicion()
    {
        var node = Start();
        node.Step(new GossipMessage(GossipMessageType.PushPull, 2, 1) { State = [Member(2), Member(3, 0, MemberStatus.Dead), Member(9)] });
        var reply = Assert.Single(node.TakeMessages());
        Assert.Equal(GossipMessageType.PushPullReply, reply.Type);
        Assert.Equal([1UL, 2, 3, 4, 5, 9], reply.State.Select(m => m.Id));
        Assert.Equal(MemberStatus.Suspect, node.Member(3)!.Status);
        Assert.Equal(MemberStatus.Alive, node.Member(9)!.Status);
        Assert.Contains(node.TakeEvents(), e => e.Member.Id == 9 && e.Previous is null);
    }

    [Fact]
    public void A_full_list_from_a_peer_teaches_members_never_heard_of_with_their_status()
    {
        var node = Start();
        node.Step(new GossipMessage(GossipMessageType.PushPullReply, 2, 1) { State = [Member(7, 2, MemberStatus.Dead), Member(8, 1, MemberStatus.Left), Member(9, 0, MemberStatus.Suspect)] });
        Assert.Equal((MemberStatus.Suspect, 2UL), (node.Member(7)!.Status, node.Member(7)!.Incarnation)); // a peer's death verdict is suspicion here
        Assert.Equal(MemberStatus.Left, node.Member(8)!.Status); // a list says left only on 8's own word
        Assert.Equal(MemberStatus.Suspect, node.Member(9)!.Status);
        while (node.Member(9)!.Status == MemberStatus.Suspect)
        {
            node.Tick();
        }

        Assert.Equal(MemberStatus.Dead, node.Member(9)!.Status);
    }

    [Fact]
    public void A_join_whose_exchange_was_lost_asks_again_each_probe_interval_until_a_list_arrives()
    {
        var node = new SwimNode(Member(1), Settings, new SeededRandom(1));
        node.Join([Member(2)]);
        Assert.Single(node.TakeMessages(), m => m.Type == GossipMessageType.PushPull && m.To == 2);
        int Asks()
        {
            var asks = 0;
            for (var i = 0; i < Settings.ProbeIntervalTicks; i++)
            {
                node.Tick();
                asks += node.TakeMessages().Count(m => m.Type == GossipMessageType.PushPull);
            }

            return asks;
        }

        Assert.Equal(1, Asks());
        Assert.Equal(1, Asks());
        node.Step(new GossipMessage(GossipMessageType.PushPullReply, 2, 1) { State = [Member(2), Member(3)] });
        Assert.Equal(0, Asks() + Asks());
        Assert.NotNull(node.Member(3));
    }

    [Fact]
    public void Messages_feed_a_phi_detector_per_member()
    {
        var node = Start();
        for (var i = 0; i < 20; i++)
        {
            node.Step(new GossipMessage(GossipMessageType.Gossip, 2, 1));
            for (var t = 0; t < 10; t++)
            {
                node.Tick();
            }
        }

        Assert.True(node.Phi(2) < 1, $"phi {node.Phi(2)} right after a regular message");
        for (var t = 0; t < 100; t++)
        {
            node.Tick();
        }

        Assert.True(node.Phi(2) > 8, $"phi {node.Phi(2)} ten intervals late");
        Assert.Equal(0, node.Phi(3));
    }
}
