using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Shortener.Node.Observability;

/// <summary>The node's own instruments (the HTTP server's request counts and latencies come from ASP.NET Core's meters).</summary>
public sealed class ShortenerMetrics : IDisposable
{
    public const string MeterName = "Shortener";

    public static readonly ActivitySource ActivitySource = new(MeterName);

    /// <summary>One redirect in this many has its latency recorded; the status counter counts every one.</summary>
    public const int RedirectLatencySampling = 16;

    private static readonly object[] StatusTags = Enumerable.Range(0, 600).Select(i => (object)i).ToArray();

    private readonly Meter _meter;
    private readonly Counter<long> _linksCreated;
    private readonly Counter<long> _transactions;
    private readonly Counter<long> _intentsRecovered;
    private readonly Counter<long> _gossipSent;
    private readonly Counter<long> _gossipReceived;
    private readonly Counter<long> _gossipDropped;
    private readonly Counter<long> _gossipChanges;
    private readonly Counter<long> _redirects;
    private readonly Histogram<double> _redirectDuration;
    private readonly Counter<long> _commands;
    private readonly Histogram<int> _commitBatch;
    private readonly Counter<long> _codeBlocksLeased;
    private readonly Counter<long> _peerMessagesSent;
    private readonly Counter<long> _peerMessagesDropped;
    private readonly Counter<long> _unavailable;
    private readonly Counter<long> _membershipSteps;
    private readonly Counter<long> _clickMessagesSent;
    private readonly Counter<long> _clickBytesSent;
    private readonly Counter<long> _clickMessagesDropped;
    private readonly Counter<long> _clicksRecorded;
    private readonly Counter<long> _clicksNotRecorded;
    private readonly Counter<long> _hlcOffsetRejected;
    private readonly Counter<long> _authRefused;
    private long _redirectCount;

    public ShortenerMetrics(IMeterFactory meterFactory)
    {
        _meter = meterFactory.Create(MeterName);
        _linksCreated = _meter.CreateCounter<long>("shortener.links.created", "{link}", "Links created");
        _transactions = _meter.CreateCounter<long>("shortener.transactions", "{transaction}", "Cross-shard transactions this node coordinated, by outcome (committed, aborted, pending: left to the participants' recovery)");
        _intentsRecovered = _meter.CreateCounter<long>("shortener.transactions.intents_recovered", "{intent}", "Intents past their deadline this node resolved from their transaction's record (its coordinator went away), by decision");
        _redirects = _meter.CreateCounter<long>("shortener.redirects", "{redirect}", "Redirect requests answered, by HTTP status");
        _redirectDuration = _meter.CreateHistogram<double>(
            "shortener.redirect.duration",
            "s",
            "Time to answer a redirect request, by HTTP status; sampled, one redirect in 16 (redirects bypass http.server.request.duration)",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _commands = _meter.CreateCounter<long>("shortener.commands", "{command}", "Link commands applied, by command and outcome");
        _commitBatch = _meter.CreateHistogram<int>(
            "shortener.storage.commit_batch_size",
            "{command}",
            "Commands committed together with one fsync",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _codeBlocksLeased = _meter.CreateCounter<long>("shortener.code_blocks.leased", "{block}", "Blocks of the code sequence leased by this node");
        _peerMessagesSent = _meter.CreateCounter<long>("shortener.peer.messages.sent", "{message}", "Raft messages sent to each peer");
        _peerMessagesDropped = _meter.CreateCounter<long>("shortener.peer.messages.dropped", "{message}", "Raft messages to each peer dropped, by reason (queue-full, unreachable, fault)");
        _gossipSent = _meter.CreateCounter<long>("shortener.gossip.messages.sent", "{message}", "Gossip messages delivered to a peer, by type");
        _gossipReceived = _meter.CreateCounter<long>("shortener.gossip.messages.received", "{message}", "Gossip messages received from peers, by type");
        _gossipDropped = _meter.CreateCounter<long>("shortener.gossip.messages.dropped", "{message}", "Gossip messages to a peer not delivered, by reason (fault, busy, unreachable, not-a-member, stopping)");
        _gossipChanges = _meter.CreateCounter<long>("shortener.gossip.status_changes", "{change}", "Changes of a member's status in this node's gossip view, by new status");
        _membershipSteps = _meter.CreateCounter<long>("shortener.membership.steps", "{step}", "Membership steps this node's shard leaders took toward the placement, by kind (add-learner, promote, replace-voter, demote-voter, remove-voter, remove-learner, transfer)");
        _clickMessagesSent = _meter.CreateCounter<long>("shortener.clicks.messages.sent", "{message}", "Click-store messages delivered to each peer");
        _clickBytesSent = _meter.CreateCounter<long>("shortener.clicks.bytes.sent", "By", "Bytes of click-store messages delivered to each peer");
        _clickMessagesDropped = _meter.CreateCounter<long>("shortener.clicks.messages.dropped", "{message}", "Click-store messages to or from a peer not delivered, by reason (fault, busy, unreachable, not-a-member, stopping; inbound-full: this node's loop had too many waiting)");
        _clicksRecorded = _meter.CreateCounter<long>("shortener.clicks.recorded", "{click}", "Clicks the redirect path handed to the click pipeline, by kind (human, bot)");
        _clicksNotRecorded = _meter.CreateCounter<long>("shortener.clicks.not_recorded", "{click}", "Redirects whose click was refused, by reason (queue-full: the at-most-once queue; outbox-error: the outbox file could not take it)");
        _authRefused = _meter.CreateCounter<long>("shortener.auth.refused", "{request}", "Requests refused by API-key authentication, by reason (no-key, invalid-key, forbidden)");
        _hlcOffsetRejected = _meter.CreateCounter<long>("shortener.hlc.offset_rejected", "{message}", "Peer messages whose hybrid-logical-clock stamp was too far ahead of this node's clock to follow, by peer (the message is still delivered)");
        _unavailable = _meter.CreateCounter<long>("shortener.shard.unavailable", "{request}", "Writes and linearizable reads answered 503 because their shard had no quorum in time, by shard");
    }

    public void LinkCreated() => _linksCreated.Add(1);

    public void Transaction(Core.Transactions.TransactionState outcome) => _transactions.Add(1, new KeyValuePair<string, object?>("outcome", outcome.ToString().ToLowerInvariant()));

    public void IntentRecovered(Core.Transactions.TransactionState decision) => _intentsRecovered.Add(1, new KeyValuePair<string, object?>("decision", decision.ToString().ToLowerInvariant()));

    /// <summary>
    /// Counts a redirect request and, for one in <see cref="RedirectLatencySampling"/>, records how
    /// long it took since <paramref name="startTimestamp"/> (a <see cref="Stopwatch"/> timestamp).
    /// Recording a histogram costs more than the redirect's own lookup; a uniform sample keeps the
    /// latency distribution while the counter keeps the exact count.
    /// </summary>
    public void Redirect(int status, long startTimestamp)
    {
        var tag = new KeyValuePair<string, object?>("status", StatusTags[status]);
        _redirects.Add(1, tag);
        if (Interlocked.Increment(ref _redirectCount) % RedirectLatencySampling == 0)
        {
            _redirectDuration.Record(Stopwatch.GetElapsedTime(startTimestamp).TotalSeconds, tag);
        }
    }

    public void Command(string command, string outcome) =>
        _commands.Add(1, new KeyValuePair<string, object?>("command", command), new KeyValuePair<string, object?>("outcome", outcome));

    public void CommitBatch(int size) => _commitBatch.Record(size);

    public void CodeBlockLeased() => _codeBlocksLeased.Add(1);

    public void PeerBatchSent(ulong peer, int messages) => _peerMessagesSent.Add(messages, new KeyValuePair<string, object?>("peer", peer));

    public void PeerMessageDropped(ulong peer, string reason) =>
        _peerMessagesDropped.Add(1, new KeyValuePair<string, object?>("peer", peer), new KeyValuePair<string, object?>("reason", reason));

    public void AuthenticationRefused(string reason) => _authRefused.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void HlcOffsetRejected(ulong peer) => _hlcOffsetRejected.Add(1, new KeyValuePair<string, object?>("peer", peer));

    public void GossipSent(Core.Membership.GossipMessageType type) => _gossipSent.Add(1, new KeyValuePair<string, object?>("type", GossipTypeName(type)));

    public void GossipReceived(Core.Membership.GossipMessageType type) => _gossipReceived.Add(1, new KeyValuePair<string, object?>("type", GossipTypeName(type)));

    public void GossipDropped(ulong peer, string reason) =>
        _gossipDropped.Add(1, new KeyValuePair<string, object?>("peer", peer), new KeyValuePair<string, object?>("reason", reason));

    public void GossipStatusChange(Core.Membership.MemberStatus status) => _gossipChanges.Add(1, new KeyValuePair<string, object?>("status", status.ToString().ToLowerInvariant()));

    private static string GossipTypeName(Core.Membership.GossipMessageType type) => type switch
    {
        Core.Membership.GossipMessageType.Ping => "ping",
        Core.Membership.GossipMessageType.Ack => "ack",
        Core.Membership.GossipMessageType.PingReq => "ping-req",
        Core.Membership.GossipMessageType.Gossip => "gossip",
        Core.Membership.GossipMessageType.PushPull => "push-pull",
        _ => "push-pull-reply",
    };

    /// <summary>Gauges of the gossip view: members by status, and phi per peer.</summary>
    public void ObserveGossip(Membership.GossipDriver gossip)
    {
        _meter.CreateObservableGauge(
            "shortener.gossip.members",
            () => gossip.View().GroupBy(m => m.Status).Select(g => new Measurement<int>(g.Count(), new KeyValuePair<string, object?>("status", g.Key))),
            "{member}",
            "Members as this node's gossip sees them, by status (alive, suspect, dead, left)");
        _meter.CreateObservableGauge(
            "shortener.gossip.phi",
            () => gossip.View().Where(m => m.Id != gossip.NodeId).Select(m => new Measurement<double>(m.Phi, new KeyValuePair<string, object?>("peer", m.Id))),
            "{phi}",
            "Phi accrual suspicion of each peer, from the arrival times of its gossip messages (8 or more: likely down)");
        _meter.CreateObservableGauge("shortener.gossip.incarnation", () => (long)gossip.Incarnation, "{incarnation}", "This node's gossip incarnation (raised each time it refutes a suspicion)");
    }

    public void ClickMessageSent(ulong peer, int bytes)
    {
        var tag = new KeyValuePair<string, object?>("peer", peer);
        _clickMessagesSent.Add(1, tag);
        _clickBytesSent.Add(bytes, tag);
    }

    public void ClickMessageDropped(ulong peer, string reason) =>
        _clickMessagesDropped.Add(1, new KeyValuePair<string, object?>("peer", peer), new KeyValuePair<string, object?>("reason", reason));

    public void ClickRecorded(Core.Clicks.ClickKind kind) => _clicksRecorded.Add(1, new KeyValuePair<string, object?>("kind", kind == Core.Clicks.ClickKind.Bot ? "bot" : "human"));

    public void ClickNotRecorded(string reason) => _clicksNotRecorded.Add(1, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>The click store's gauges and counters, read from the service's latest figures at each scrape.</summary>
    public void ObserveClicks(Clicks.ClickService clicks)
    {
        _meter.CreateObservableGauge("shortener.clicks.outbox.depth", () => clicks.Figures.OutboxDepth, "{click}", "Clicks in this node's outbox not yet shipped to the click store");
        _meter.CreateObservableGauge("shortener.clicks.hints.pending", () => clicks.Figures.HintsPending, "{click}", "Hints this node holds for replicas that were down (hinted handoff)");
        _meter.CreateObservableGauge("shortener.clicks.stored", () => clicks.Figures.Stored, "{click}", "Clicks in this node's replica of the click store");
        _meter.CreateObservableCounter("shortener.clicks.shipped", () => clicks.Figures.Shipped, "{click}", "Clicks the relay wrote into the click store at its consistency level");
        _meter.CreateObservableCounter("shortener.clicks.relay.failures", () => clicks.Figures.RelayFailures, "{attempt}", "Relay writes that missed their consistency level (retried, except at most once)");
        _meter.CreateObservableGauge("shortener.clicks.relay.paced", () => clicks.Figures.RelayPaced ? 1 : 0, "{state}", "1 while the relay ships at its floor because this node serves redirects on a CPU-contended host");
        _meter.CreateObservableCounter("shortener.clicks.relay.held_back", () => clicks.Figures.RelayHeldBack, "{tick}", "Click-loop ticks at which the relay was held back to leave the CPU to redirects");
        _meter.CreateObservableCounter("shortener.clicks.lost", () => clicks.Figures.Lost, "{click}", "Clicks given up on (at-most-once delivery only)");
        _meter.CreateObservableCounter("shortener.clicks.writes", () => (IEnumerable<Measurement<long>>)
        [
            new Measurement<long>(clicks.Figures.Node.WritesSucceeded, new KeyValuePair<string, object?>("outcome", "ok")),
            new Measurement<long>(clicks.Figures.Node.WritesFailed, new KeyValuePair<string, object?>("outcome", "failed")),
        ], "{write}", "Click-store writes this node coordinated, by outcome");
        _meter.CreateObservableCounter("shortener.clicks.reads", () => (IEnumerable<Measurement<long>>)
        [
            new Measurement<long>(clicks.Figures.Node.ReadsSucceeded, new KeyValuePair<string, object?>("outcome", "ok")),
            new Measurement<long>(clicks.Figures.Node.ReadsFailed, new KeyValuePair<string, object?>("outcome", "failed")),
        ], "{read}", "Click-store reads this node coordinated, by outcome");
        _meter.CreateObservableCounter("shortener.clicks.read_repairs", () => clicks.Figures.Node.ReadRepairs, "{repair}", "Replicas a read found behind and sent what they lacked");
        _meter.CreateObservableCounter("shortener.clicks.hints.replayed", () => clicks.Figures.Node.HintsReplayed, "{click}", "Hints handed over to their owners");
        _meter.CreateObservableCounter("shortener.clicks.hints.expired", () => clicks.Figures.Node.HintsExpired, "{click}", "Hints dropped past the window (anti-entropy repairs their owners)");
        _meter.CreateObservableCounter("shortener.clicks.hints.rerouted", () => clicks.Figures.Node.HintsRerouted, "{click}", "Hints for nodes no longer on the ring, written to their keys' current replicas instead");
        _meter.CreateObservableCounter("shortener.clicks.repair.bytes", () => clicks.Figures.Node.RepairBytes, "By", "Bytes of Merkle hashes, digests and clicks anti-entropy moved (as the initiating side)");
        _meter.CreateObservableCounter("shortener.clicks.repair.clicks", () => clicks.Figures.Node.RepairClicksPushed + clicks.Figures.Node.RepairClicksPulled, "{click}", "Clicks anti-entropy copied between replicas");
        _meter.CreateObservableCounter("shortener.clicks.anti_entropy.rounds", () => (IEnumerable<Measurement<long>>)
        [
            new Measurement<long>(clicks.Figures.Node.AntiEntropyInSync, new KeyValuePair<string, object?>("result", "in-sync")),
            new Measurement<long>(clicks.Figures.Node.AntiEntropyRounds - clicks.Figures.Node.AntiEntropyInSync - clicks.Figures.Node.AntiEntropyAbandoned, new KeyValuePair<string, object?>("result", "repaired")),
            new Measurement<long>(clicks.Figures.Node.AntiEntropyAbandoned, new KeyValuePair<string, object?>("result", "abandoned")),
        ], "{round}", "Merkle comparisons of one ring range with one peer, by result");
        _meter.CreateObservableCounter("shortener.clicks.sealed", () => clicks.Figures.Node.ClicksSealed, "{click}", "Clicks this node folded into sealed days (per-origin counters) and deleted");
        _meter.CreateObservableCounter("shortener.clicks.sealed.merged", () => clicks.Figures.Node.SealedMerged, "{day}", "Sealed days of a link that a version from another replica changed here (anti-entropy, read repair)");
        _meter.CreateObservableCounter("shortener.clicks.sealed.deferred", () => clicks.Figures.Node.SealedDeferred, "{day}", "Sealed days from other replicas not merged yet because they are not past this node's own seal horizon (a clock ahead, or a shorter SealAfterDays)");
        _meter.CreateObservableCounter("shortener.clicks.late", () => clicks.Figures.Node.LateClicks, "{click}", "Clicks that reached this replica after it sealed their day: not counted here");
        _meter.CreateObservableCounter("shortener.clicks.store.failures", () => clicks.Figures.Node.StoreFailures, "{failure}", "Click store or hint writes on this node's disk that failed");
    }

    public void MembershipStep(string kind) => _membershipSteps.Add(1, new KeyValuePair<string, object?>("kind", kind));

    public void ShardUnavailable(int shard) => _unavailable.Add(1, new KeyValuePair<string, object?>("shard", shard));

    /// <summary>Per-shard gauges read from the replicas' latest status at each scrape.</summary>
    public void ObserveShards(Shards.ShardHost host, Membership.MemberList members)
    {
        _meter.CreateObservableGauge("shortener.shard.applied_age", () => Each(host, r => r.AppliedAgeMs), "ms", "How long ago this replica last knew it had applied all its leader committed: the staleness of redirects from this shard");
        _meter.CreateObservableGauge("shortener.shard.applied_index", () => Each(host, r => (long)r.Status.Applied), "{entry}", "Log index this replica has applied");
        _meter.CreateObservableGauge("shortener.shard.commit_index", () => Each(host, r => (long)r.Status.Commit), "{entry}", "Log index this replica knows committed");
        _meter.CreateObservableGauge("shortener.shard.term", () => Each(host, r => (long)r.Status.Term), "{term}", "Raft term this replica is in");
        _meter.CreateObservableGauge("shortener.shard.leader", () => Each(host, r => r.Status.Role == Core.Raft.RaftRole.Leader ? 1 : 0), "{bool}", "1 where this node leads the shard");
        _meter.CreateObservableGauge("shortener.shard.voter", () => Each(host, r => r.Status.Config.Voters.Contains(members.Self) ? 1 : 0), "{bool}", "1 where this node votes in the shard (0: a learner, or not in its configuration yet)");
        _meter.CreateObservableGauge(
            "shortener.cluster.members",
            () => (IEnumerable<Measurement<long>>)
            [
                new Measurement<long>(members.Topology.Members.Count(m => !m.Leaving), new KeyValuePair<string, object?>("state", "member")),
                new Measurement<long>(members.Topology.Members.Count(m => m.Leaving), new KeyValuePair<string, object?>("state", "leaving")),
            ],
            "{node}",
            "Members of the cluster as this node knows them, by state");
        _meter.CreateObservableGauge("shortener.cluster.members_version", () => members.Topology.Version, "{change}", "Changes the member list has been through");
        ObserveLog(host.Log);
        _meter.CreateObservableCounter("shortener.shard_db.commits", () => host.Database.Commits, "{commit}", "Transactions the node's link database committed, for all shards: one per commit bound (100 ms or 10,000 applies by default) or reader's request while something was applied");
        _meter.CreateObservableGauge("shortener.shard_db.held_applies", () => host.Database.HeldApplies, "{command}", "Commands applied and not yet committed to the node's link database (readable by code meanwhile; the Raft log replays them after a crash)");
        _meter.CreateObservableCounter("shortener.shard_db.checkpoints", () => host.Database.Checkpoints, "{checkpoint}", "WAL checkpoints of the node's link database, run off the driver thread");
        _meter.CreateObservableCounter("shortener.shard_db.wal_restarts", () => host.Database.WalRestarts, "{restart}", "Times the node's link database started its write-ahead log over (past 64 MiB it is copied back whole and written from the start)");
        _meter.CreateObservableGauge("shortener.snapshot_work.waiting", () => host.Snapshots.Waiting, "{task}", "Snapshot captures and snapshot files waiting for the node's snapshot worker (one at a time, at a lowered priority)");
        _meter.CreateObservableCounter("shortener.snapshot_work.done", () => host.Snapshots.Done, "{task}", "Snapshot captures and snapshot files the node's snapshot worker finished");
    }

    /// <summary>The node's Raft log: its batches (one write and one fsync each) and how many shards each carried.</summary>
    private void ObserveLog(Storage.Raft.RaftLogEngine log)
    {
        _meter.CreateObservableCounter("shortener.raft_log.batches", () => log.Batches, "{batch}", "Batches the node's Raft log wrote, one write and one fsync each");
        _meter.CreateObservableCounter("shortener.raft_log.shard_batches", () => log.GroupsWritten, "{batch}", "Shards' records written, summed over batches: divided by batches, the shards one fsync served");
        _meter.CreateObservableCounter("shortener.raft_log.fsyncs", () => log.Syncs, "{fsync}", "fsyncs of the node's Raft log");
        _meter.CreateObservableCounter("shortener.raft_log.written", () => log.BytesWritten, "By", "Bytes the node's Raft log wrote");
        _meter.CreateObservableCounter("shortener.raft_log.rewrites", () => log.Rewrites, "{rewrite}", "Shards' live entries copied forward so old segments could be deleted");
        _meter.CreateObservableGauge("shortener.raft_log.segments", () => log.SegmentCount, "{segment}", "Segment files of the node's Raft log");
    }

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<long>> Each(Shards.ShardHost host, Func<Shards.ShardReplica, long> value) =>
        host.Replicas.Select(r => new Measurement<long>(value(r), new KeyValuePair<string, object?>("shard", r.Shard)));
}
