using Microsoft.Data.Sqlite;
using Shortener.Core.Links;
using Shortener.Core.Replication;
using Shortener.Storage.Links;

namespace Shortener.Storage.Tests;

public sealed class SqliteLinkStoreTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    private string DbPath => _dir.File("links.db");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Commands_survive_reopening()
    {
        using (var store = SqliteLinkStore.Open(DbPath))
        {
            store.Apply(Envelope(Create("abc", tags: ["x", "y"])));
            store.Apply(Envelope(new UpdateLink(2_000, "abc", new LinkPatch(Title: "hello", MaxVisits: 3))));
            store.Apply(Envelope(new RecordVisit(3_000, "abc")));
            store.Apply(Envelope(new LeaseCodeBlock(3_000, 500)));
        }

        using (var store = SqliteLinkStore.Open(DbPath))
        {
            var link = store.Get("abc")!;
            Assert.Equal("hello", link.Title);
            Assert.Equal(3, link.MaxVisits);
            Assert.Equal(1, link.Visits);
            Assert.Equal(["x", "y"], link.Tags);
            var lease = store.Apply(Envelope(new LeaseCodeBlock(4_000, 10)));
            Assert.Equal(new CodeBlock(500, 10), lease.Block);
        }
    }

    [Fact]
    public void Database_is_in_wal_mode_with_full_sync()
    {
        using var store = SqliteLinkStore.Open(DbPath);
        using var connection = new SqliteConnection($"Data Source={DbPath}");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal("wal", command.ExecuteScalar());
    }

    [Fact]
    public void Codes_are_case_sensitive()
    {
        using var store = SqliteLinkStore.Open(DbPath);
        Assert.Equal(CommandOutcome.Created, store.Apply(Envelope(Create("Abc"))).Outcome);
        Assert.Equal(CommandOutcome.Created, store.Apply(Envelope(Create("abc"))).Outcome);
        Assert.Null(store.Get("ABC"));
    }

    [Fact]
    public void Command_and_idempotency_record_commit_together()
    {
        var token = new IdempotencyToken("client", "k1", "h1");
        using (var store = SqliteLinkStore.Open(DbPath))
        {
            var first = store.Apply(new LinkCommandEnvelope(Create("abc"), token));
            Assert.Equal(CommandOutcome.Created, first.Outcome);
        }

        using (var store = SqliteLinkStore.Open(DbPath))
        {
            var retry = store.Apply(new LinkCommandEnvelope(Create("abc", at: 5_000), token));
            Assert.True(retry.Replayed);
            Assert.Equal(CommandOutcome.Created, retry.Outcome);
            Assert.Equal(1_000, retry.Link!.CreatedAt);
            Assert.Equal(CommandOutcome.IdempotencyMismatch, store.Apply(new LinkCommandEnvelope(Create("xyz"), token with { RequestHash = "h2" })).Outcome);
            Assert.Null(store.Get("xyz"));
        }
    }

    [Fact]
    public void A_failing_command_rolls_back_alone_with_its_idempotency_record()
    {
        using var store = SqliteLinkStore.Open(DbPath);
        using (var connection = new SqliteConnection($"Data Source={DbPath}"))
        {
            // Make inserts of one particular code fail inside the transaction.
            connection.Open();
            using var trigger = connection.CreateCommand();
            trigger.CommandText = "CREATE TRIGGER fail_bad BEFORE INSERT ON links WHEN NEW.code = 'bad' BEGIN SELECT RAISE(ABORT, 'planted failure'); END";
            trigger.ExecuteNonQuery();
        }

        var results = store.ApplyBatch(
        [
            Envelope(Create("ok1")),
            new LinkCommandEnvelope(Create("bad"), new IdempotencyToken("c", "k-bad", "h")),
            Envelope(Create("ok2")),
        ]);

        Assert.Equal(CommandOutcome.Created, results[0].Result!.Outcome);
        Assert.NotNull(results[1].Error);
        Assert.Contains("planted failure", results[1].Error!.Message);
        Assert.Equal(CommandOutcome.Created, results[2].Result!.Outcome);
        Assert.NotNull(store.Get("ok1"));
        Assert.NotNull(store.Get("ok2"));
        Assert.Null(store.Get("bad"));

        // The key was not recorded, so a retry after the fault is applied fresh.
        var retry = store.ApplyBatch([new LinkCommandEnvelope(Create("bad2"), new IdempotencyToken("c", "k-bad", "h"))]);
        Assert.False(retry[0].Result!.Replayed);
        Assert.IsType<SqliteException>(results[1].Error);
    }

    [Fact]
    public void Lists_newest_first_with_keyset_paging_and_tags()
    {
        using var store = SqliteLinkStore.Open(DbPath);
        for (var i = 0; i < 25; i++)
        {
            store.Apply(Envelope(Create($"c{i:D2}", at: 1_000 + (i / 2), tags: i % 3 == 0 ? ["three"] : [])));
        }

        store.Apply(Envelope(new DeleteLink(9_000, "c24")));

        var seen = new List<string>();
        LinkCursor? cursor = null;
        do
        {
            var page = store.List(7, cursor, null);
            Assert.InRange(page.Links.Count, 1, 7);
            seen.AddRange(page.Links.Select(l => l.Code));
            cursor = page.Next;
        }
        while (cursor is not null);

        var expected = Enumerable.Range(0, 24).Select(i => $"c{i:D2}").OrderByDescending(c => 1_000 + (int.Parse(c[1..]) / 2)).ThenByDescending(c => c, StringComparer.Ordinal).ToList();
        Assert.Equal(expected, seen);

        var tagged = store.List(100, null, "three").Links.Select(l => l.Code).ToList();
        Assert.Equal(["c21", "c18", "c15", "c12", "c09", "c06", "c03", "c00"], tagged);

        var firstTwo = store.List(2, null, "three");
        Assert.Equal(["c21", "c18"], firstTwo.Links.Select(l => l.Code));
        Assert.Equal(["c15", "c12"], store.List(2, firstTwo.Next, "three").Links.Select(l => l.Code));
    }

    [Fact]
    public void Tag_index_follows_updates_and_deletes()
    {
        using var store = SqliteLinkStore.Open(DbPath);
        store.Apply(Envelope(Create("abc", tags: ["old"])));
        store.Apply(Envelope(new UpdateLink(2_000, "abc", new LinkPatch(Tags: ["new"]))));
        Assert.Empty(store.List(10, null, "old").Links);
        Assert.Single(store.List(10, null, "new").Links);
        store.Apply(Envelope(new DeleteLink(3_000, "abc")));
        Assert.Empty(store.List(10, null, "new").Links);
    }

    [Fact]
    public void Purges_idempotency_records_by_age_as_a_replicated_command()
    {
        using var store = SqliteLinkStore.Open(DbPath);
        var day = LinkStateMachine.IdempotencyRetentionMs;
        store.Apply(new LinkCommandEnvelope(Create("a", at: 1_000), new IdempotencyToken("c", "old", "h")));
        store.Apply(new LinkCommandEnvelope(Create("b", at: 5_000), new IdempotencyToken("c", "new", "h")));
        Assert.Equal(1, store.Apply(new LinkCommandEnvelope(new PurgeIdempotency(day + 2_000))).Purged);
        Assert.Equal(0, store.Apply(new LinkCommandEnvelope(new PurgeIdempotency(day + 2_000))).Purged);
        Assert.Null(store.FindIdempotency("c", "old"));
        Assert.NotNull(store.FindIdempotency("c", "new"));
    }

    [Fact]
    public void Cluster_documents_are_kept_in_meta_and_travel_in_snapshots()
    {
        byte[] snapshot;
        using (var store = SqliteLinkStore.Open(DbPath))
        {
            Assert.Null(store.ClusterDocument(ClusterDocumentNames.Members));
            Assert.Equal(CommandOutcome.Ok, store.Apply(new LinkCommandEnvelope(new SetClusterMembers(1, 0, "{\"members\":[]}\nline two"))).Outcome);
            Assert.Equal(CommandOutcome.Conflict, store.Apply(new LinkCommandEnvelope(new SetClusterMembers(2, 0, "lost"))).Outcome);
            Assert.Equal((1L, "{\"members\":[]}\nline two"), store.ClusterDocument(ClusterDocumentNames.Members));
            Assert.Equal(CommandOutcome.Ok, store.Apply(new LinkCommandEnvelope(new SetClusterDocument(3, ClusterDocumentNames.ApiKeys, 0, "keys"))).Outcome);
            snapshot = store.ExportSnapshot().Data;
        }

        using var restored = SqliteLinkStore.Open(Path.Combine(Path.GetDirectoryName(DbPath)!, "other.db"));
        restored.RestoreSnapshot(0, snapshot, 1);
        Assert.Equal((1L, "{\"members\":[]}\nline two"), restored.ClusterDocument(ClusterDocumentNames.Members));
        Assert.Equal((1L, "keys"), restored.ClusterDocument(ClusterDocumentNames.ApiKeys));
    }

    [Fact]
    public void The_applied_index_commits_with_the_batch_and_a_reproposed_command_applies_once()
    {
        using (var store = SqliteLinkStore.Open(DbPath, synchronousFull: false))
        {
            Assert.Equal(0UL, store.AppliedIndex);
            var results = store.ApplyBatch(
                [Envelope(new LeaseCodeBlock(1, 10)), Envelope(new LeaseCodeBlock(1, 10)), Envelope(new LeaseCodeBlock(1, 10))],
                appliedIndex: 7,
                proposals: [new(1, 1), new(1, 1), new(2, 1)]);
            Assert.Equal(new CodeBlock(0, 10), results[0].Result!.Block);
            Assert.True(results[1].Duplicate);
            Assert.Equal(new CodeBlock(0, 10), results[1].Result!.Block);
            Assert.Equal(new CodeBlock(10, 10), results[2].Result!.Block);
            Assert.Equal(7UL, store.AppliedIndex);

            // Empty batches still move the applied index (conf changes, empty entries).
            store.ApplyBatch([], appliedIndex: 9);
            Assert.Equal(9UL, store.AppliedIndex);
        }

        using var reopened = SqliteLinkStore.Open(DbPath, synchronousFull: false);
        Assert.Equal(9UL, reopened.AppliedIndex);
        Assert.True(reopened.ApplyBatch([Envelope(new LeaseCodeBlock(1, 10))], 10, [new(1, 1)])[0].Duplicate);
    }

    [Fact]
    public void Replicated_a_failure_that_is_not_the_datas_fault_stops_the_batch_instead_of_skipping_a_command()
    {
        using var store = SqliteLinkStore.Open(DbPath, synchronousFull: false);
        store.ApplyBatch([Envelope(Create("before"))], appliedIndex: 3);
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var drop = connection.CreateCommand();
            drop.CommandText = "DROP TABLE link_tags";
            drop.ExecuteNonQuery();
        }

        // Not a constraint: another replica would have applied it, so this one must not move on.
        Assert.Throws<Microsoft.Data.Sqlite.SqliteException>(() => store.ApplyBatch([Envelope(Create("tagged", tags: ["x"]))], appliedIndex: 4));
        Assert.Equal(3UL, store.AppliedIndex);
        Assert.Null(store.Get("tagged"));

        // Unreplicated (no applied index), the same failure stays the command's own result.
        Assert.NotNull(store.ApplyBatch([Envelope(Create("tagged", tags: ["x"]))])[0].Error);
    }

    [Fact]
    public void A_snapshot_replaces_one_shards_rows_and_leaves_the_others()
    {
        using var store = SqliteLinkStore.Open(DbPath);
        store.ApplyBatch(0, [Envelope(Create("kept"))], appliedIndex: 5);
        store.ApplyBatch(3, [Envelope(Create("other-shard"))], appliedIndex: 9);
        var (applied, snapshot) = store.ExportSnapshot(0);
        Assert.Equal(5UL, applied);
        store.ApplyBatch(0, [Envelope(Create("after-snapshot"))], appliedIndex: 6);

        store.RestoreSnapshot(0, snapshot, 5);
        Assert.Equal(5UL, store.AppliedIndex);
        Assert.NotNull(store.Get("kept"));
        Assert.Null(store.Get("after-snapshot"));
        Assert.NotNull(store.Get(3, "other-shard"));
        Assert.Equal(9UL, store.AppliedIndexOf(3));
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(DbPath)!, "*.incoming-*"));

        // The empty snapshot empties the shard.
        store.RestoreSnapshot(3, [], 12);
        Assert.Null(store.Get(3, "other-shard"));
        Assert.Equal(12UL, store.AppliedIndexOf(3));
    }

    [Fact]
    public void A_file_that_is_not_a_database_fails_with_a_clear_error()
    {
        File.WriteAllBytes(DbPath, Enumerable.Range(0, 8192).Select(i => (byte)(i * 7)).ToArray());
        var error = Assert.Throws<StorageException>(() => SqliteLinkStore.Open(DbPath));
        Assert.Contains(DbPath, error.Message);
        Assert.Contains("backup", error.Message);
    }

    [Fact]
    public void A_database_with_a_damaged_page_fails_its_integrity_check()
    {
        using (var store = SqliteLinkStore.Open(DbPath))
        {
            for (var i = 0; i < 300; i++)
            {
                store.Apply(Envelope(Create($"code{i:D4}", url: "https://example.com/" + new string('p', 200))));
            }
        }

        // Fold the WAL into the main file, then scribble over the middle of the links b-tree.
        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var checkpoint = connection.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
        }

        var bytes = File.ReadAllBytes(DbPath);
        Assert.True(bytes.Length > 8 * 4096);
        for (var i = 4 * 4096; i < 6 * 4096; i++)
        {
            bytes[i] ^= 0x5A;
        }

        File.WriteAllBytes(DbPath, bytes);
        var error = Assert.Throws<StorageException>(() => SqliteLinkStore.Open(DbPath));
        Assert.Contains("backup", error.Message);
    }

    [Fact]
    public void A_database_from_a_newer_version_is_refused()
    {
        using (var store = SqliteLinkStore.Open(DbPath))
        {
        }

        using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 99";
            command.ExecuteNonQuery();
        }

        var error = Assert.Throws<StorageException>(() => SqliteLinkStore.Open(DbPath));
        Assert.Contains("newer", error.Message);
    }

    [Fact]
    public void Migrations_run_once()
    {
        using (SqliteLinkStore.Open(DbPath))
        {
        }

        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        Assert.Equal(LinkSchema.Migrations[^1].Version, Sqlite.SchemaMigrator.CurrentVersion(connection));
        Assert.Empty(Sqlite.SchemaMigrator.Migrate(connection, LinkSchema.Migrations, DbPath));
    }

    [Fact]
    public async Task Background_checkpoints_copy_the_wal_into_the_database_file_off_the_writer()
    {
        using (var store = SqliteLinkStore.Open(DbPath, synchronousFull: false))
        {
            store.CheckpointInBackground(TimeSpan.FromMilliseconds(20));
            var before = new FileInfo(DbPath).Length;
            for (var i = 0; i < 300; i++)
            {
                store.Apply(new LinkCommandEnvelope(Create($"ckpt{i}", url: "https://example.com/" + new string('x', 200))));
            }

            // The writer no longer checkpoints (automatic checkpoints are off); the checkpointer
            // thread copies the WAL into the file.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (new FileInfo(DbPath).Length <= before || store.Checkpoints < 2)
            {
                Assert.True(DateTime.UtcNow < deadline, $"no checkpoint reached the file ({store.Checkpoints} run, {new FileInfo(DbPath).Length} bytes)");
                await Task.Delay(20);
            }
        }

        // Closed and opened again, every link is there.
        using var reopened = SqliteLinkStore.Open(DbPath, synchronousFull: false);
        Assert.Equal(300, Enumerable.Range(0, 300).Count(i => reopened.Get($"ckpt{i}") is not null));
    }

    [Fact]
    public async Task A_writer_that_is_never_idle_still_starts_its_wal_over()
    {
        // A passive checkpoint copies the log back, but SQLite writes it from the start again
        // only when a transaction begins on a log copied back whole; a writer that commits and
        // begins again at once never saw one, and the WAL grew by every page ever written.
        const int links = 3000;
        var wal = DbPath + "-wal";
        long largest = 0;
        using (var store = SqliteLinkStore.Open(DbPath, synchronousFull: false))
        {
            store.HoldCommits = true;
            store.CheckpointInBackground(TimeSpan.FromMilliseconds(10), restartFrames: 64);
            for (var i = 0; i < links; i++)
            {
                store.Apply(new LinkCommandEnvelope(Create($"w{i * 7919 % links:x5}", url: "https://example.com/" + new string('x', 300))));
                if (i % 10 == 9)
                {
                    store.CommitHeld();
                    largest = Math.Max(largest, new FileInfo(wal).Length);
                }

                if (i % 100 == 99)
                {
                    // Let the background checkpointer catch up now and then, as it does between commits in a node.
                    await Task.Delay(30);
                }
            }

            Assert.True(store.WalRestarts > 0, "the writer never started the log over");
        }

        // Never started over, this log reaches about 12 MB (every page of every commit); started
        // over past 64 pages it stays a fraction of that.
        Assert.True(largest < 4 << 20, $"the WAL grew to {largest} bytes");
        using var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var count = connection.CreateCommand();
        count.CommandText = "SELECT count(*) FROM links";
        Assert.Equal(links, Convert.ToInt32(count.ExecuteScalar()));
    }

    internal static CreateLink Create(string code, long at = 1_000, string url = "https://example.com/", IReadOnlyList<string>? tags = null) =>
        new(at, code, url, null, null, 302, tags ?? [], null);

    private static LinkCommandEnvelope Envelope(LinkCommand command) => new(command);
}
