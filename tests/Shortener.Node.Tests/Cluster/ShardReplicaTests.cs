using Microsoft.Extensions.Logging.Abstractions;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Node.Faults;
using Shortener.Node.Hosting;
using Shortener.Node.Membership;
using Shortener.Node.Peers;
using Shortener.Node.Shards;
using Shortener.Storage.Raft;

namespace Shortener.Node.Tests.Cluster;

/// <summary>
/// Three replicas of one shard in this process, each over its own WAL and SQLite directory and run
/// by a driver thread of its own, wired by an in-memory network the test can cut: proposals, reads,
/// snapshots and restarts on real threads and disks without the cost of processes.
/// </summary>
public sealed class ShardReplicaTests : IAsyncLifetime
{
    private const int TickMs = 20;
    private readonly Dictionary<ulong, DriverThread> _threads = [];
    private readonly Dictionary<ulong, RaftLogEngine> _logs = [];
    private readonly Dictionary<ulong, Storage.Links.SqliteLinkStore> _stores = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<ulong, bool> _commitFails = new();

    private readonly TempDirectory _dir = new();
    private readonly Dictionary<ulong, ShardReplica> _replicas = [];
    private readonly CutSet _cut = new();
    private int _restored;
    private readonly CancellationTokenSource _stop = new();
    private Task _ticker = Task.CompletedTask;
    private int _snapshotEntries = 10_000;
    private volatile Core.Cluster.ShardReplicas? _target;
    private long _ticksSent;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _stop.CancelAsync();
        await _ticker;
        foreach (var thread in _threads.Values)
        {
            await thread.DisposeAsync();
        }

        foreach (var replica in _replicas.Values)
        {
            await replica.DisposeAsync();
        }

        foreach (var store in _stores.Values)
        {
            store.Dispose();
        }

        foreach (var log in _logs.Values)
        {
            log.Dispose();
        }

        _dir.Dispose();
    }

    [Fact]
    public async Task A_command_proposed_on_a_follower_applies_everywhere()
    {
        await StartAsync();
        var leader = await LeaderAsync();
        var follower = _replicas.Keys.First(id => id != leader);
        var result = await _replicas[follower].ProposeAsync(Create("abc", "https://example.com/1"), CancellationToken.None);
        Assert.Equal(CommandOutcome.Created, result.Outcome);

        await Eventually(() => _replicas.Values.All(r => Get(r, "abc")?.Url == "https://example.com/1"));
        await _replicas[leader].WaitLinearizableAsync(CancellationToken.None);
        await _replicas[follower].WaitLinearizableAsync(CancellationToken.None);
        Assert.All(_replicas.Values, r => Assert.Equal(r.Status.Commit, r.Status.Applied));
    }

    [Fact]
    public async Task A_replica_cut_off_from_the_others_answers_unavailable_within_its_timeout()
    {
        await StartAsync(timeout: TimeSpan.FromMilliseconds(1500));
        var leader = await LeaderAsync();
        _cut.Add(leader);
        var started = DateTime.UtcNow;
        var error = await Assert.ThrowsAsync<ShardUnavailableException>(() => _replicas[leader].ProposeAsync(Create("cut", "https://example.com/cut"), CancellationToken.None));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(3));
        Assert.True(error.MayHaveApplied);
        await Assert.ThrowsAsync<ShardUnavailableException>(() => _replicas[leader].WaitLinearizableAsync(CancellationToken.None));

        // The other two elect a leader and serve; the cut-off one's entry never commits.
        var others = _replicas.Keys.Where(id => id != leader).ToList();
        await _replicas[others[0]].ProposeAsync(Create("ok", "https://example.com/ok"), CancellationToken.None);
        _cut.Clear();
        await Eventually(() => Get(_replicas[leader], "ok") is not null);
        Assert.Null(Get(_replicas[leader], "cut"));
    }

    [Fact]
    public async Task The_same_proposal_twice_in_the_log_applies_once_on_every_replica()
    {
        await StartAsync();
        var leader = await LeaderAsync();

        // What a re-proposal produces when the first copy did commit after all.
        var copy = ProposalFrame.Encode(new ProposalId(4242, 7), LinkCommandCodec.Encode(new LinkCommandEnvelope(new LeaseCodeBlock(1, 10))));
        await _replicas[leader].OnLoopAsync(node => node.Propose(copy));
        await _replicas[leader].OnLoopAsync(node => node.Propose(copy));
        var target = await _replicas[leader].OnLoopAsync(node => node.LastIndex);
        await Eventually(() => _replicas.Values.All(r => r.Status.Applied >= target));

        foreach (var replica in _replicas.Values)
        {
            var next = await replica.ProposeAsync(new LinkCommandEnvelope(new LeaseCodeBlock(2, 10)), CancellationToken.None);
            Assert.True(next.Block!.Value.Start % 10 == 0 && next.Block.Value.Start <= 30, $"sequence moved by {next.Block.Value.Start}");
        }

        // Three leases after the doubled one: 10, 20, 30 — the doubled one counted once.
        var last = await _replicas[leader].ProposeAsync(new LinkCommandEnvelope(new LeaseCodeBlock(3, 10)), CancellationToken.None);
        Assert.Equal(new CodeBlock(40, 10), last.Block);
    }

    [Fact]
    public async Task A_proposal_lost_with_its_leader_is_proposed_again_and_applied_once()
    {
        await StartAsync(timeout: TimeSpan.FromSeconds(8));
        var leader = await LeaderAsync();
        var follower = _replicas.Keys.First(id => id != leader);

        // Cut the leader off: the follower's proposal is forwarded into the void, then a new leader
        // is elected and the follower proposes it again under the same id.
        _cut.Add(leader);
        var result = await _replicas[follower].ProposeAsync(new LinkCommandEnvelope(new LeaseCodeBlock(1, 10)), CancellationToken.None);
        Assert.Equal(new CodeBlock(0, 10), result.Block);
        _cut.Clear();

        var next = await _replicas[follower].ProposeAsync(new LinkCommandEnvelope(new LeaseCodeBlock(2, 10)), CancellationToken.None);
        Assert.Equal(new CodeBlock(10, 10), next.Block);
    }

    [Fact]
    public async Task A_replica_that_missed_compacted_entries_catches_up_from_a_snapshot_and_restarts_from_it()
    {
        _snapshotEntries = 20;
        await StartAsync();
        var leader = await LeaderAsync();
        var lagging = _replicas.Keys.First(id => id != leader);
        _cut.Add(lagging);
        for (var i = 0; i < 60; i++)
        {
            await _replicas[leader].ProposeAsync(Create($"code{i}", $"https://example.com/{i}"), CancellationToken.None);
        }

        await Eventually(() => _replicas[leader].Status.SnapshotIndex >= 40);

        // Readers keep reading the lagging replica while it swaps its database for the snapshot:
        // each holds a lease on the store of its moment, so none ever meets a closed one.
        using var stopReading = new CancellationTokenSource();
        var reads = 0;
        var reader = Task.Run(() =>
        {
            while (!stopReading.IsCancellationRequested)
            {
                Get(_replicas[lagging], "code1");
                reads++;
            }
        });
        _cut.Clear();
        await Eventually(() => Get(_replicas[lagging], "code59") is not null);
        await stopReading.CancelAsync();
        await reader;
        Assert.True(reads > 0);
        Assert.True(Volatile.Read(ref _restored) >= 1, "the lagging replica caught up without installing a snapshot");
        Assert.Equal(60, Enumerable.Range(0, 60).Count(i => Get(_replicas[lagging], $"code{i}") is not null));

        // Restarted, it resumes from its own state: nothing lost, nothing applied twice.
        var applied = _replicas[lagging].Status.Applied;
        await CloseAsync(lagging);
        _replicas[lagging] = Open(lagging);
        Assert.Equal(applied, _replicas[lagging].Status.Applied);
        await _replicas[lagging].ProposeAsync(Create("after", "https://example.com/after"), CancellationToken.None);
        Assert.Equal(60, Enumerable.Range(0, 60).Count(i => Get(_replicas[lagging], $"code{i}") is not null));
    }

    [Fact]
    public async Task A_replica_whose_storage_fails_stops_instead_of_skipping_what_the_others_apply()
    {
        await StartAsync();
        var leader = await LeaderAsync();
        var broken = _replicas.Keys.First(id => id != leader);
        var path = _stores[broken].Path;

        // Its database holds no open write transaction (the table can be dropped).
        await _stores[broken].WhenCommittedAsync();
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE links";
            drop.ExecuteNonQuery();
        }

        var applied = _replicas[broken].Status.Applied;
        await _replicas[leader].ProposeAsync(Create("after-break", "https://example.com/b"), CancellationToken.None);
        await Eventually(() => _replicas[broken].Status.Failed);
        Assert.Equal(applied, _replicas[broken].Links.AppliedIndex);

        await Assert.ThrowsAsync<ShardUnavailableException>(() => _replicas[broken].ProposeAsync(Create("x", "https://example.com/x"), CancellationToken.None));

        // The other two keep a quorum and keep writing.
        var third = _replicas.Keys.Single(id => id != leader && id != broken);
        Assert.Equal(CommandOutcome.Created, (await _replicas[third].ProposeAsync(Create("still", "https://example.com/s"), CancellationToken.None)).Outcome);
    }

    [Fact]
    public async Task A_database_commit_that_fails_stops_the_replica_and_a_restart_replays_what_it_lost()
    {
        await StartAsync();
        var leader = await LeaderAsync();

        // What the leader applied so far (its no-op) is committed before commits start failing.
        await Eventually(() => _replicas[leader].Status.Applied > 0);
        await _stores[leader].WhenCommittedAsync();
        var committed = _stores[leader].AppliedIndexOf(0);
        _commitFails[leader] = true;

        // Committed through Raft and applied: answered at once, and readable by code on the node
        // that answered although its database has not committed it.
        var result = await _replicas[leader].ProposeAsync(Create("uncommitted", "https://example.com/u"), CancellationToken.None);
        Assert.Equal(CommandOutcome.Created, result.Outcome);
        Assert.NotNull(Get(_replicas[leader], "uncommitted"));

        // The commit that would have put it in the database fails: the replica stops rather than
        // apply past what its database lost.
        await Eventually(() => _replicas[leader].Status.Failed);
        Assert.Equal(committed, _stores[leader].AppliedIndexOf(0));
        await Assert.ThrowsAsync<ShardUnavailableException>(() => _replicas[leader].ProposeAsync(Create("refused", "https://example.com/r"), CancellationToken.None));

        // Restarted with a database that commits, it replays the log from the index its database holds.
        await CloseAsync(leader);
        Assert.Equal(committed, ReadAppliedIndex(leader));
        _commitFails.TryRemove(leader, out _);
        _replicas[leader] = Open(leader);
        await Eventually(() => Get(_replicas[leader], "uncommitted") is not null);
        await _stores[leader].WhenCommittedAsync();
        Assert.True(_stores[leader].AppliedIndexOf(0) > committed);
    }

    [Fact]
    public async Task What_a_replica_applied_reaches_its_database_within_the_commit_interval_unasked()
    {
        await StartAsync();
        var leader = await LeaderAsync();
        await _replicas[leader].ProposeAsync(Create("bounded", "https://example.com/bounded"), CancellationToken.None);
        var applied = _replicas[leader].Status.Applied;

        // Nobody asks for a commit (no list, no WhenCommittedAsync): the time bound alone brings it.
        Assert.False(_stores[leader].CommitWanted);
        await Eventually(() => _stores.Values.All(store => store.AppliedIndexOf(0) >= applied && !store.Holding));
        Assert.NotNull(_stores[leader].List(10, null, null).Links.SingleOrDefault(l => l.Code == "bounded"));
    }

    [Fact]
    public async Task An_entry_no_replica_can_read_stops_them_all_rather_than_being_skipped()
    {
        await StartAsync();
        var leader = await LeaderAsync();
        await _replicas[leader].OnLoopAsync(node => node.Propose([9, 9, 9]));
        await Eventually(() => _replicas.Values.All(r => r.Status.Failed));
    }

    [Fact]
    public async Task A_cut_off_replica_reports_its_growing_staleness()
    {
        await StartAsync();
        var leader = await LeaderAsync();
        var follower = _replicas.Keys.First(id => id != leader);
        await Eventually(() => _replicas[follower].AppliedAgeMs < 500);
        _cut.Add(follower);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.True(_replicas[follower].AppliedAgeMs >= 1_000, $"age {_replicas[follower].AppliedAgeMs} ms");
        var newLeader = await LeaderAsync();
        Assert.True(_replicas[newLeader].AppliedAgeMs < 1_000, $"leader age {_replicas[newLeader].AppliedAgeMs} ms");
        _cut.Clear();
        await Eventually(() => _replicas[follower].AppliedAgeMs < 500);
    }

    [Fact]
    public async Task The_leader_takes_a_departed_voter_out_but_not_while_that_needs_a_dead_one()
    {
        await StartAsync();
        var leader = await LeaderAsync();
        var others = _replicas.Keys.Where(id => id != leader).Order().ToArray();
        var (leaving, down) = (others[0], others[1]);

        // With `down` cut off, dropping `leaving` would leave {leader, down}: a quorum that needs the dead one.
        _cut.Add(down);

        // Liveness is counted in ticks: wait until the leader has had three election timeouts of
        // them without a word from `down` (wall time says little when the machine is loaded).
        var cutAt = Interlocked.Read(ref _ticksSent);
        await Eventually(() => Interlocked.Read(ref _ticksSent) > cutAt + 30);
        await Task.Delay(100);
        _target = new Core.Cluster.ShardReplicas(0, [leader, down], []);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(RaftRole.Leader, _replicas[leader].Status.Role);
        Assert.True(3 == _replicas[leader].Status.Config.Voters.Count, $"leader {leader}, leaving {leaving}, down {down}: {_replicas[leader].Status.Config}");

        // Back in touch: the step is taken, and the shard still writes.
        _cut.Clear();
        await Eventually(() => _replicas[leader].Status.Config.Voters.Order().SequenceEqual(new[] { leader, down }.Order()) && _replicas[leader].Status.Config.Learners.Count == 0);
        var current = await LeaderAsync();
        Assert.Equal(CommandOutcome.Created, (await _replicas[current].ProposeAsync(Create("after-removal", "https://example.com/r"), CancellationToken.None)).Outcome);
    }

    private static LinkCommandEnvelope Create(string code, string url) =>
        new(new CreateLink(1, code, url, null, null, 302, [], null));

    private async Task StartAsync(TimeSpan? timeout = null)
    {
        foreach (var id in new ulong[] { 1, 2, 3 })
        {
            _replicas[id] = Open(id, timeout);
        }

        _ticker = Task.Run(async () =>
        {
            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(TickMs));
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false))
            {
                foreach (var replica in _replicas.Values)
                {
                    replica.Tick();
                }

                Interlocked.Increment(ref _ticksSent);
            }
        }).ContinueWith(_ => { });
        await Task.CompletedTask;
    }

    [Fact]
    public void A_shard_directory_with_a_wal_of_its_own_from_an_older_version_is_refused()
    {
        Directory.CreateDirectory(Path.Combine(_dir.Path, "node1", "raft", "wal"));
        var error = Assert.Throws<Storage.StorageException>(() => Open(1));
        Assert.Contains("new data dir", error.Message);
    }

    private async Task CloseAsync(ulong id)
    {
        if (_threads.Remove(id, out var thread))
        {
            await thread.DisposeAsync();
        }

        await _replicas[id].DisposeAsync();
        if (_stores.Remove(id, out var store))
        {
            store.Dispose();
        }

        if (_logs.Remove(id, out var log))
        {
            log.Dispose();
        }
    }

    private ShardReplica Open(ulong id, TimeSpan? timeout = null)
    {
        var thread = new DriverThread();
        var log = RaftLogEngine.Open(Path.Combine(_dir.Path, $"node{id}", "raft-log"));
        _logs[id] = log;
        var store = Storage.Links.SqliteLinkStore.Open(Path.Combine(_dir.Path, $"node{id}", "shards.db"), synchronousFull: false);
        store.HoldCommits = true;
        _stores[id] = store;
        var replica = ShardReplica.Open(
            Path.Combine(_dir.Path, $"node{id}"),
            log,
            store,
            new ShardReplicaSettings
            {
                Shard = 0,
                NodeId = id,
                Proposer = 1000 + id,
                Transport = new TestTransport(this),
                TickMs = TickMs,
                RequestTimeout = timeout ?? TimeSpan.FromSeconds(10),
                ReproposeInterval = TimeSpan.FromSeconds(1),
                SnapshotEntries = _snapshotEntries,
                SnapshotKeepEntries = 5,
                Restored = _ => Interlocked.Increment(ref _restored),
                Target = () => _target,
            },
            ConfState.Of(1, 2, 3),
            thread.Signal,
            NullLogger.Instance);
        thread.Start([replica], new FailingCommit(store, () => _commitFails.ContainsKey(id)), CommitBound.Default);
        _threads[id] = thread;
        return replica;
    }

    private async Task<ulong> LeaderAsync()
    {
        ulong leader = 0;
        await Eventually(() => (leader = _replicas.Values.FirstOrDefault(r => r.Status.Role == RaftRole.Leader && !_cut.Contains(r.Status.Leader))?.Status.Leader ?? 0) != 0);
        return leader;
    }

    /// <summary>The applied index in a closed node's database file, as a restart will find it.</summary>
    private ulong ReadAppliedIndex(ulong id)
    {
        using var store = Storage.Links.SqliteLinkStore.Open(Path.Combine(_dir.Path, $"node{id}", "shards.db"), synchronousFull: false);
        return store.AppliedIndexOf(0);
    }

    /// <summary>The node's database, whose commits fail while <paramref name="fails"/> says so.</summary>
    private sealed class FailingCommit(Storage.Links.SqliteLinkStore store, Func<bool> fails) : Storage.Links.IHeldTransaction
    {
        public bool Holding => store.Holding;

        public int HeldApplies => store.HeldApplies;

        public bool CommitWanted => store.CommitWanted;

        public void CommitHeld()
        {
            // Only a commit with something to commit fails, as a real one would; what it held
            // stays uncommitted (and is dropped when the store closes).
            if (fails() && store.Holding)
            {
                throw new IOException("the database commit failed (injected)");
            }

            store.CommitHeld();
        }
    }

    /// <summary>A local read of the replica's rows, as LinkService reads.</summary>
    private static Link? Get(ShardReplica replica, string code) => replica.Links.Get(code);

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 15 s");
            await Task.Delay(20);
        }
    }

    /// <summary>The in-memory network: a message goes straight to its receiver's inbox unless either end is cut off.</summary>
    private sealed class TestTransport(ShardReplicaTests test) : IRaftTransport
    {
        public void Send(RaftMessage m)
        {
            if (!test._cut.Contains(m.From) && !test._cut.Contains(m.To) && test._replicas.TryGetValue(m.To, out var to))
            {
                to.Deliver(m);
            }
        }
    }

    /// <summary>The nodes cut off the in-memory network; read by every replica's loop while the test changes it.</summary>
    private sealed class CutSet
    {
        private readonly Lock _lock = new();
        private readonly HashSet<ulong> _ids = [];

        public void Add(ulong id)
        {
            lock (_lock)
            {
                _ids.Add(id);
            }
        }

        public void Clear()
        {
            lock (_lock)
            {
                _ids.Clear();
            }
        }

        public bool Contains(ulong id)
        {
            lock (_lock)
            {
                return _ids.Contains(id);
            }
        }
    }
}
