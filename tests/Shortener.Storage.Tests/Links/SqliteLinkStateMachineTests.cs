using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Core.Replication;
using Shortener.Storage.Links;

namespace Shortener.Storage.Tests.Links;

/// <summary>A shard's SQLite state machine: applies, snapshots, and the store swap readers lease across.</summary>
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
        using var lease = target.Lease();
        Assert.NotNull(lease.Store.Get("abc"));
        Assert.NotNull(lease.Store.Get("def"));
    }

    [Fact]
    public void The_bootstrap_snapshot_restores_an_empty_state_at_its_index()
    {
        using var machine = SqliteLinkStateMachine.Open(_dir.File("links.db"));
        machine.Apply([Create(1, "gone")], 3);
        machine.Restore(new RaftSnapshot(new SnapshotMetadata(1, 1, ConfState.Of(1)), []));
        Assert.Equal(1UL, machine.AppliedIndex);
        using var lease = machine.Lease();
        Assert.Null(lease.Store.Get("gone"));
        Assert.Equal(1UL, lease.Store.AppliedIndex);
    }

    [Fact]
    public async Task A_swap_waits_for_the_readers_of_the_old_store_and_no_reader_meets_a_closed_one()
    {
        using var machine = SqliteLinkStateMachine.Open(_dir.File("links.db"));
        machine.Apply([Create(1, "abc")], 2);
        var snapshot = machine.PrepareSnapshot()();

        // A reader holds the store: the swap waits for it.
        var held = machine.Lease();
        var swap = Task.Run(() => machine.Restore(new RaftSnapshot(new SnapshotMetadata(snapshot.Index, 1, ConfState.Of(1)), snapshot.Data)));
        Assert.NotSame(swap, await Task.WhenAny(swap, Task.Delay(200)));
        Assert.NotNull(held.Store.Get("abc"));
        held.Dispose();
        await swap.WaitAsync(TimeSpan.FromSeconds(10));

        // Readers loop while the store is swapped again and again: every read succeeds.
        using var stop = new CancellationTokenSource();
        var reads = 0;
        var readers = Enumerable.Range(0, 3).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var lease = machine.Lease();
                Assert.NotNull(lease.Store.Get("abc"));
                Interlocked.Increment(ref reads);
            }
        })).ToArray();
        for (var i = 0; i < 10; i++)
        {
            // Some reads between every two swaps, so the readers do meet them.
            var before = Volatile.Read(ref reads);
            while (Volatile.Read(ref reads) < before + 20 && !readers.Any(r => r.IsCompleted))
            {
                await Task.Yield();
            }

            machine.Restore(new RaftSnapshot(new SnapshotMetadata(snapshot.Index, 1, ConfState.Of(1)), snapshot.Data));
        }

        await stop.CancelAsync();
        await Task.WhenAll(readers);
        Assert.True(reads >= 200, $"{reads} reads");
    }

    [Fact]
    public void After_dispose_a_lease_is_refused_rather_than_waiting_forever()
    {
        var machine = SqliteLinkStateMachine.Open(_dir.File("links.db"));
        machine.Dispose();
        Assert.Throws<ObjectDisposedException>(() => machine.Lease());
    }

    private static ProposedCommand Create(ulong sequence, string code) =>
        new(new ProposalId(1, sequence), sequence + 1, 1, LinkCommandCodec.Encode(new LinkCommandEnvelope(new CreateLink(1_000, code, "https://example.com/" + code, null, null, 302, [], null))));
}
