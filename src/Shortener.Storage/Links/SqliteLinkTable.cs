using System.Globalization;
using Microsoft.Data.Sqlite;
using Shortener.Core.Changes;
using Shortener.Core.Links;
using Shortener.Core.Replication;

namespace Shortener.Storage.Links;

/// <summary>
/// <see cref="ILinkTable"/> over the write connection of a <see cref="SqliteLinkStore"/>, for one
/// shard at a time (<see cref="Shard"/>). Every call runs inside the transaction the store opened
/// for the apply, so a command and its idempotency record commit together or not at all; each
/// command runs in a savepoint of its own.
/// </summary>
internal sealed class SqliteLinkTable(SqliteConnection connection) : ILinkTableTransaction, IDisposable
{
    // One command per statement, kept: SQLite then parses and plans each statement once per
    // connection instead of on every apply, which under load was a tenth of a node's CPU.
    private readonly Dictionary<string, (SqliteCommand Command, bool PerShard)> _commands = new(StringComparer.Ordinal);

    internal const string SelectColumns = "code, url, created_at, updated_at, expires_at, max_visits, visits, redirect_status, tags, title, deleted, valid_since, crawlable, forward_query, owner";

    public SqliteTransaction? Transaction { get; set; }

    /// <summary>The shard whose rows the calls read and write.</summary>
    public int Shard { get; set; }

    /// <summary>Where written links and idempotency records go as well while the store holds its commits (null otherwise).</summary>
    internal UncommittedRows? Uncommitted { get; set; }

    private bool _inCommand;

    public ulong NextSequence
    {
        get
        {
            var text = Scalar("SELECT value FROM meta WHERE shard = $shard AND key = 'next_sequence'") as string;
            return text is null ? 0 : ulong.Parse(text, CultureInfo.InvariantCulture);
        }

        set => Execute(
            "INSERT INTO meta (shard, key, value) VALUES ($shard, 'next_sequence', $v) ON CONFLICT (shard, key) DO UPDATE SET value = excluded.value",
            ("$v", value.ToString(CultureInfo.InvariantCulture)));
    }

    // A document is kept in meta under its name as "version\ndocument".
    public (long Version, string Document)? FindDocument(string name) =>
        Scalar("SELECT value FROM meta WHERE shard = $shard AND key = $name", ("$name", name)) is string text ? ParseDocument(text) : null;

    public void PutDocument(string name, long version, string document) => Execute(
        "INSERT INTO meta (shard, key, value) VALUES ($shard, $name, $v) ON CONFLICT (shard, key) DO UPDATE SET value = excluded.value",
        ("$name", name),
        ("$v", version.ToString(CultureInfo.InvariantCulture) + "\n" + document));

    public void RemoveDocument(string name) => Execute("DELETE FROM meta WHERE shard = $shard AND key = $name", ("$name", name));

    public Link? Find(string code)
    {
        var command = Command($"SELECT {SelectColumns} FROM links WHERE shard = $shard AND code = $code", ("$code", code));
        using var reader = command.ExecuteReader();
        return reader.Read() ? ReadLink(reader) : null;
    }

    public void Insert(Link link)
    {
        Execute(
            """
            INSERT INTO links (shard, code, url, created_at, updated_at, expires_at, max_visits, visits, redirect_status, tags, title, deleted, valid_since, crawlable, forward_query, owner)
            VALUES ($shard, $code, $url, $created, $updated, $expires, $max, $visits, $status, $tags, $title, $deleted, $since, $crawlable, $forward, $owner)
            """,
            LinkParameters(link));
        InsertTags(link);
        Written(link);
    }

    public void Update(Link link)
    {
        var previous = Find(link.Code) ?? throw new InvalidOperationException($"no link {link.Code} to update");
        Execute(
            """
            UPDATE links SET url = $url, created_at = $created, updated_at = $updated, expires_at = $expires, max_visits = $max,
                visits = $visits, redirect_status = $status, tags = $tags, title = $title, deleted = $deleted,
                valid_since = $since, crawlable = $crawlable, forward_query = $forward, owner = $owner
            WHERE shard = $shard AND code = $code
            """,
            LinkParameters(link));
        if (previous.Deleted != link.Deleted || !previous.Tags.SequenceEqual(link.Tags, StringComparer.Ordinal))
        {
            Execute("DELETE FROM link_tags WHERE shard = $shard AND code = $code AND created_at = $created", ("$code", link.Code), ("$created", previous.CreatedAt));
            InsertTags(link);
        }

        Written(link);
    }

    public IdempotencyRecord? FindIdempotency(string scope, string key)
    {
        var command = Command(
            "SELECT request_hash, result, created_at FROM idempotency WHERE shard = $shard AND scope = $scope AND key = $key",
            ("$scope", scope),
            ("$key", key));
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return null;
        }

        return new IdempotencyRecord(scope, key, reader.GetString(0), LinkJson.Deserialize<CommandResult>(reader.GetString(1)), reader.GetInt64(2));
    }

    public void PutIdempotency(IdempotencyRecord record)
    {
        var stored = record with { Result = record.Result with { Replayed = false } };
        Execute(
            """
            INSERT INTO idempotency (shard, scope, key, request_hash, result, created_at) VALUES ($shard, $scope, $key, $hash, $result, $created)
            ON CONFLICT (shard, scope, key) DO UPDATE SET request_hash = excluded.request_hash, result = excluded.result, created_at = excluded.created_at
            """,
            ("$scope", stored.Scope),
            ("$key", stored.Key),
            ("$hash", stored.RequestHash),
            ("$result", LinkJson.Serialize(stored.Result)),
            ("$created", stored.CreatedAt));
        if (Uncommitted is { } uncommitted)
        {
            uncommitted.Stage(Shard, stored);
            PublishOutsideCommand(uncommitted);
        }
    }

    internal const string ChangeColumns = "idx, position, term, op, before, after, at_ms, hlc";
    internal const string ChangesPurgedKey = "changes_purged";

    public void AppendChange(LinkChange change) => Execute(
        $"INSERT INTO changes (shard, {ChangeColumns}) VALUES ($shard, $idx, $position, $term, $op, $before, $after, $at, $hlc)",
        ("$idx", (long)change.Offset.Index),
        ("$position", change.Offset.Position),
        ("$term", (long)change.Term),
        ("$op", ChangeOperations.Code(change.Op)),
        ("$before", change.Before is null ? null : LinkJson.Serialize(change.Before)),
        ("$after", change.After is null ? null : LinkJson.Serialize(change.After)),
        ("$at", change.AtMs),
        ("$hlc", change.Hlc.ToString()));

    public ChangeOffset? PurgeChanges(long beforeMs, int keep)
    {
        var purged = PurgedThrough(Scalar("SELECT value FROM meta WHERE shard = $shard AND key = $key", ("$key", ChangesPurgedKey)) as string, Shard);

        // The cut as ChangeRetention.Cut makes it: through the newest change before the time, and
        // through all but the newest `keep`. Two index lookups, not a scan of the kept changes.
        ChangeOffset? byCount = null;
        using (var reader = Command("SELECT idx, position FROM changes WHERE shard = $shard ORDER BY idx DESC, position DESC LIMIT 1 OFFSET $keep", ("$keep", keep)).ExecuteReader())
        {
            if (reader.Read())
            {
                byCount = new ChangeOffset(Shard, (ulong)reader.GetInt64(0), reader.GetInt32(1));
            }
        }

        ChangeOffset? byAge = null;
        using (var reader = Command("SELECT idx, position FROM changes WHERE shard = $shard AND at_ms < $t ORDER BY idx DESC, position DESC LIMIT 1", ("$t", beforeMs)).ExecuteReader())
        {
            if (reader.Read())
            {
                byAge = new ChangeOffset(Shard, (ulong)reader.GetInt64(0), reader.GetInt32(1));
            }
        }

        var cut = byCount is { } c && (byAge is not { } a || c.CompareTo(a) > 0) ? byCount : byAge;
        if (cut is not { } through)
        {
            return purged;
        }

        Execute(
            "DELETE FROM changes WHERE shard = $shard AND (idx < $idx OR (idx = $idx AND position <= $position))",
            ("$idx", (long)through.Index),
            ("$position", through.Position));
        var newest = purged is { } earlier && earlier.CompareTo(through) > 0 ? earlier : through;
        Execute(
            "INSERT INTO meta (shard, key, value) VALUES ($shard, $key, $v) ON CONFLICT (shard, key) DO UPDATE SET value = excluded.value",
            ("$key", ChangesPurgedKey),
            ("$v", string.Create(CultureInfo.InvariantCulture, $"{newest.Index}.{newest.Position}")));
        return newest;
    }

    /// <summary>The offset a shard's changes were purged through, as kept in meta ("index.position"); null: never.</summary>
    internal static ChangeOffset? PurgedThrough(string? text, int shard)
    {
        if (text is null)
        {
            return null;
        }

        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return new ChangeOffset(shard, ulong.Parse(text.AsSpan(0, dot), CultureInfo.InvariantCulture), int.Parse(text.AsSpan(dot + 1), CultureInfo.InvariantCulture));
    }

    /// <summary>A kept change as a reader reads it (the columns of <see cref="ChangeColumns"/>).</summary>
    internal static LinkChange ReadChange(SqliteDataReader reader, int shard)
    {
        var hlc = reader.GetString(7);
        var dot = hlc.IndexOf('.', StringComparison.Ordinal);
        return new LinkChange(
            new ChangeOffset(shard, (ulong)reader.GetInt64(0), reader.GetInt32(1)),
            (ulong)reader.GetInt64(2),
            reader.GetString(3) switch { "c" => ChangeOperation.Create, "u" => ChangeOperation.Update, "d" => ChangeOperation.Delete, var op => throw new InvalidDataException($"change op '{op}'") },
            reader.IsDBNull(4) ? null : LinkJson.Deserialize<Link>(reader.GetString(4)),
            reader.IsDBNull(5) ? null : LinkJson.Deserialize<Link>(reader.GetString(5)),
            reader.GetInt64(6),
            new Core.Clocks.HlcTimestamp(long.Parse(hlc.AsSpan(0, dot), CultureInfo.InvariantCulture), int.Parse(hlc.AsSpan(dot + 1), CultureInfo.InvariantCulture)));
    }

    public int PurgeIdempotency(long beforeMs)
    {
        Execute("DELETE FROM applied_proposals WHERE shard = $shard AND at < $t", ("$t", beforeMs));
        var command = Command("DELETE FROM idempotency WHERE shard = $shard AND created_at < $t", ("$t", beforeMs));
        return command.ExecuteNonQuery();
    }

    // Savepoints through the cached commands (the transaction's own helpers parse anew each time).
    public void BeginCommand()
    {
        Execute("SAVEPOINT cmd");
        _inCommand = true;
    }

    public void CommitCommand()
    {
        Execute("RELEASE cmd");
        _inCommand = false;
        Uncommitted?.Publish();
    }

    public void RollbackCommand()
    {
        _inCommand = false;
        Uncommitted?.Drop();
        Execute("ROLLBACK TO cmd");
        Execute("RELEASE cmd");
    }

    /// <summary>A link row written in the held transaction: visible to readers once its command is done.</summary>
    private void Written(Link link)
    {
        if (Uncommitted is { } uncommitted)
        {
            uncommitted.Stage(Shard, link);
            PublishOutsideCommand(uncommitted);
        }
    }

    /// <summary>A write outside any command's savepoint is done as soon as it is written.</summary>
    private void PublishOutsideCommand(UncommittedRows uncommitted)
    {
        if (!_inCommand)
        {
            uncommitted.Publish();
        }
    }

    public (bool Applied, CommandResult? Result) FindProposal(ProposalId id)
    {
        var command = Command(
            "SELECT result FROM applied_proposals WHERE shard = $shard AND proposer = $p AND id = $id",
            ("$p", unchecked((long)id.Proposer)),
            ("$id", unchecked((long)id.Sequence)));
        using var reader = command.ExecuteReader();
        if (!reader.Read())
        {
            return (false, null);
        }

        return (true, reader.IsDBNull(0) ? null : LinkJson.Deserialize<CommandResult>(reader.GetString(0)));
    }

    public void RecordProposal(ProposalId id, long at, CommandResult? result) => Execute(
        "INSERT INTO applied_proposals (shard, proposer, id, at, result) VALUES ($shard, $p, $id, $at, $result)",
        ("$p", unchecked((long)id.Proposer)),
        ("$id", unchecked((long)id.Sequence)),
        ("$at", at),
        ("$result", result is null ? null : LinkJson.Serialize(result with { Replayed = false })));

    /// <summary>The meta value of the member list: its version, a newline, the document.</summary>
    internal static (long Version, string Document) ParseDocument(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return (long.Parse(text.AsSpan(0, newline), CultureInfo.InvariantCulture), text[(newline + 1)..]);
    }

    internal static Link ReadLink(SqliteDataReader reader) => new(
        Code: reader.GetString(0),
        Url: reader.GetString(1),
        CreatedAt: reader.GetInt64(2),
        UpdatedAt: reader.GetInt64(3),
        ExpiresAt: reader.IsDBNull(4) ? null : reader.GetInt64(4),
        MaxVisits: reader.IsDBNull(5) ? null : reader.GetInt64(5),
        Visits: reader.GetInt64(6),
        RedirectStatus: reader.GetInt32(7),
        Tags: LinkJson.Deserialize<string[]>(reader.GetString(8)),
        Title: reader.IsDBNull(9) ? null : reader.GetString(9),
        Deleted: reader.GetInt64(10) != 0,
        ValidSince: reader.IsDBNull(11) ? null : reader.GetInt64(11),
        Crawlable: reader.GetInt64(12) != 0,
        ForwardQuery: reader.GetInt64(13) != 0,
        Owner: reader.IsDBNull(14) ? null : reader.GetString(14));

    private static (string, object?)[] LinkParameters(Link link) =>
    [
        ("$code", link.Code),
        ("$url", link.Url),
        ("$created", link.CreatedAt),
        ("$updated", link.UpdatedAt),
        ("$expires", link.ExpiresAt),
        ("$max", link.MaxVisits),
        ("$visits", link.Visits),
        ("$status", link.RedirectStatus),
        ("$tags", LinkJson.Serialize(link.Tags)),
        ("$title", link.Title),
        ("$deleted", link.Deleted ? 1 : 0),
        ("$since", link.ValidSince),
        ("$crawlable", link.Crawlable ? 1 : 0),
        ("$forward", link.ForwardQuery ? 1 : 0),
        ("$owner", link.Owner),
    ];

    private void InsertTags(Link link)
    {
        if (link.Deleted)
        {
            return;
        }

        foreach (var tag in link.Tags)
        {
            Execute(
                "INSERT OR IGNORE INTO link_tags (shard, tag, created_at, code) VALUES ($shard, $tag, $created, $code)",
                ("$tag", tag),
                ("$created", link.CreatedAt),
                ("$code", link.Code));
        }
    }

    public void Dispose()
    {
        foreach (var (command, _) in _commands.Values)
        {
            command.Dispose();
        }

        _commands.Clear();
    }

    /// <summary>The cached command for <paramref name="sql"/>, bound to the current transaction and these parameters. Not to be disposed by the caller.</summary>
    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        if (!_commands.TryGetValue(sql, out var cached))
        {
            var created = connection.CreateCommand();
            created.CommandText = sql;
            cached = (created, sql.Contains("$shard", StringComparison.Ordinal));
            _commands[sql] = cached;
        }

        var command = cached.Command;
        command.Transaction = Transaction;
        command.Parameters.Clear();
        if (cached.PerShard)
        {
            command.Parameters.AddWithValue("$shard", Shard);
        }

        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    internal void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = Command(sql, parameters);
        command.ExecuteNonQuery();
    }

    private object? Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = Command(sql, parameters);
        return command.ExecuteScalar();
    }
}
