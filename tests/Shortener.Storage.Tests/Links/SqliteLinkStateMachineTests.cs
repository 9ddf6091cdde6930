using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Storage.Links;

namespace Shortener.Storage.Tests.Links;

/// <summary>A shard's SQLite state machine: applies, snapshots, and the node's database shared by shards with one held commit.</summary>
public sealed class SqliteLinkStateMachineTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_snapshot_it_took_restores_elsewhere_to_the_same_state()
    {
        using var source = SqliteLinkStateMachine.Open(_dir.File("a/links.db"));
        source.Apply([Create(1, "abc"), Create(2, "def")], 5);
        var captured = source.PrepareSnapshot()();
        Assert.Equal(5UL, captured.Index);

        using var target = SqliteLinkStateMachine.Open(_dir.File("b/links.db"));
        var restored = 0;
        target.Restored = () => restored++;
        target.Restore(new RaftSnapshot(new SnapshotMetadata(5, 2, ConfState.Of(1)), captured.Data));
        Assert.Equal(5UL, target.AppliedIndex);
        Assert.Equal(1, restored);
        Assert.NotNull(target.Links.Get("abc"));
        Assert.NotNull(target.Links.Get("def"));
    }

    [Fact]
    public void The_bootstrap_snapshot_restores_an_empty_state_at_its_index()
    {
        using var machine = SqliteLinkStateMachine.Open(_dir.File("links.db"));
        machine.Apply([Create(1, "gone")], 3);
        machine.Restore(new RaftSnapshot(new SnapshotMetadata(1, 1, ConfState.Of(1)), []));
        Assert.Equal(1UL, machine.AppliedIndex);
        Assert.Null(machine.Links.Get("gone"));
        Assert.Equal(1UL, machine.Links.AppliedIndex);
    }

    [Fact]
    public async Task Readers_during_snapshot_installs_see_the_old_rows_or_the_new_never_an_error()
    {
        using var machine = SqliteLinkStateMachine.Open(_dir.File("links.db"));
        machine.Apply([Create(1, "abc")], 2);
        var one = machine.PrepareSnapshot()();
        machine.Apply([Create(2, "def")], 3);
        var two = machine.PrepareSnapshot()();

        using var stop = new CancellationTokenSource();
        var reads = 0;
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                Assert.NotNull(machine.Links.Get("abc"));
                Interlocked.Increment(ref reads);
            }
        })).ToArray();
        for (var i = 0; i < 10; i++)
        {
            // Some reads between every two installs, so the readers do meet them.
            var before = Volatile.Read(ref reads);
            while (Volatile.Read(ref reads) < before + 20 && !readers.Any(r => r.IsCompleted))
            {
                await Task.Yield();
            }

            var snapshot = i % 2 == 0 ? one : two;
            machine.Restore(new RaftSnapshot(new SnapshotMetadata(snapshot.Index, 1, ConfState.Of(1)), snapshot.Data));
            Assert.Equal(i % 2 == 0, machine.Links.Get("def") is null);
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.True(reads >= 200, $"{reads} reads");
    }

    [Fact]
    public void Shards_share_the_nodes_database_and_a_link_is_read_by_code_once_applied_and_listed_once_committed()
    {
        using var store = SqliteLinkStore.Open(_dir.File("shards.db"), synchronousFull: false);
        store.HoldCommits = true;
        var seven = new SqliteLinkStateMachine(store, 7);
        var nine = new SqliteLinkStateMachine(store, 9);
        seven.Apply([Create(1, "in-seven")], 4);
        nine.Apply([Create(1, "in-nine")], 6);
        Assert.Equal(2, store.HeldApplies);

        // Applied, not yet committed: read by code from what the held transaction wrote, in its own
        // shard only; lists and the applied index are as committed.
        Assert.Equal("in-seven", seven.Links.Get("in-seven")?.Code);
        Assert.Null(seven.Links.Get("in-nine"));
        Assert.Empty(seven.Links.List(10, null, null).Links);
        Assert.Equal(0UL, nine.Links.AppliedIndex);
        Assert.Equal(6UL, nine.AppliedIndex);
        var waiting = store.WhenCommittedAsync();
        Assert.False(waiting.IsCompleted);
        Assert.True(store.CommitWanted);

        store.CommitHeld();
        Assert.True(waiting.IsCompleted);
        Assert.False(store.CommitWanted);
        Assert.Equal(0, store.HeldApplies);
        Assert.True(store.WhenCommittedAsync().IsCompleted);
        Assert.Equal(1, store.Commits);
        Assert.NotNull(seven.Links.Get("in-seven"));
        Assert.Single(seven.Links.List(10, null, null).Links);
        Assert.Null(seven.Links.Get("in-nine"));
        Assert.NotNull(nine.Links.Get("in-nine"));
        Assert.Equal((4UL, 6UL), (seven.Links.AppliedIndex, nine.Links.AppliedIndex));

        // A shard's snapshot holds its rows only.
        var snapshot = seven.PrepareSnapshot()();
        using var elsewhere = SqliteLinkStateMachine.Open(_dir.File("elsewhere.db"));
        elsewhere.Restore(new RaftSnapshot(new SnapshotMetadata(snapshot.Index, 1, ConfState.Of(1)), snapshot.Data));
        Assert.NotNull(elsewhere.Links.Get("in-seven"));
        Assert.Null(elsewhere.Links.Get("in-nine"));
    }

    [Fact]
    public void An_apply_that_fails_with_commits_held_loses_the_whole_round_and_the_commit_says_so()
    {
        var path = _dir.File("shards.db");
        using var store = SqliteLinkStore.Open(path, synchronousFull: false);
        store.HoldCommits = true;
        var healthy = new SqliteLinkStateMachine(store, 1);
        var broken = new SqliteLinkStateMachine(store, 2);
        healthy.Apply([Create(1, "first")], 3);
        store.CommitHeld();
        healthy.Apply([Create(2, "held")], 4);

        // A command that fails for a reason other than its data (here a tag table gone) ends the round.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False"))
        {
            store.CommitHeld();
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE link_tags";
            drop.ExecuteNonQuery();
        }

        healthy.Apply([Create(3, "held-too")], 5);
        Assert.Throws<Microsoft.Data.Sqlite.SqliteException>(() => broken.Apply([CreateTagged(1, "tagged")], 2));
        var error = Assert.Throws<StorageException>(store.CommitHeld);
        Assert.Contains("rolled back", error.Message);
        Assert.Equal(4UL, healthy.Links.AppliedIndex);

        // What was applied and lost stays readable by code (the log holds it and a restart applies
        // it again); the database never had it.
        Assert.NotNull(healthy.Links.Get("held-too"));
        Assert.Null(broken.Links.Get("tagged"));
        Assert.DoesNotContain(healthy.Links.List(10, null, null).Links, l => l.Code == "held-too");
    }

    [Fact]
    public void After_dispose_a_read_is_refused()
    {
        var machine = SqliteLinkStateMachine.Open(_dir.File("links.db"));
        machine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => machine.Links.Get("x"));
    }

    private static ProposedCommand CreateTagged(ulong sequence, string code) =>
        new(new ProposalId(1, sequence), sequence + 1, 1, LinkCommandCodec.Encode(new LinkCommandEnvelope(new CreateLink(1_000, code, "https://example.com/" + code, null, null, 302, ["t"], null))));

    private static ProposedCommand Create(ulong sequence, string code) =>
        new(new ProposalId(1, sequence), sequence + 1, 1, LinkCommandCodec.Encode(new LinkCommandEnvelope(new CreateLink(1_000, code, "https://example.com/" + code, null, null, 302, [], null))));
}
