using Shortener.Core.Changes;
using Shortener.Core.Leases;
using Shortener.Core.Transactions;

namespace Shortener.Core.Links;

/// <summary>
/// Applies link commands to an <see cref="ILinkTable"/>. Pure and deterministic: the same commands
/// applied in the same order to the same state give the same state and the same results, which is
/// what lets a replicated log drive it on every replica. Inputs are assumed validated by the
/// proposer (<see cref="LinkFieldRules"/>); the machine itself only decides what depends on state.
/// </summary>
public static class LinkStateMachine
{
    /// <summary>How long an idempotency key is remembered: 24 hours.</summary>
    public const long IdempotencyRetentionMs = 24L * 60 * 60 * 1000;

    /// <summary>
    /// Applies one command. <paramref name="logIndex"/> is the index of the log entry that carries
    /// it: lease grants take it as their fencing token (0 outside a log, where leases are refused).
    /// </summary>
    public static CommandResult Apply(ILinkTable table, LinkCommandEnvelope envelope, ulong logIndex = 0)
    {
        if (envelope.Idempotency is not { } token)
        {
            return Apply(table, envelope.Command, logIndex);
        }

        var previous = table.FindIdempotency(token.Scope, token.Key);
        if (previous is not null && envelope.Command.At - previous.CreatedAt < IdempotencyRetentionMs)
        {
            return previous.RequestHash == token.RequestHash
                ? previous.Result with { Replayed = true }
                : CommandResult.IdempotencyMismatch;
        }

        // Refusals that a retry may not meet are not remembered: a generated code's rare collision
        // (the proposer retries under a new code) and a transaction's lock (it is released soon).
        var result = Apply(table, envelope.Command, logIndex);
        if (result.Outcome == CommandOutcome.Conflict && (envelope.Command is CreateLink { Generated: true } || result.LockedBy is not null))
        {
            return result;
        }

        table.PutIdempotency(new IdempotencyRecord(token.Scope, token.Key, token.RequestHash, result, envelope.Command.At));
        return result;
    }

    public static CommandResult Apply(ILinkTable table, LinkCommand command, ulong logIndex = 0) => command switch
    {
        CreateLink or UpdateLink or DeleteLink when LockOn(table, Intent.CodeOf(command)!) is { } txn =>
            new CommandResult(CommandOutcome.Conflict, table.Find(Intent.CodeOf(command)!), LockedBy: txn),
        CreateLink c => Create(table, c),
        UpdateLink u => Update(table, u),
        DeleteLink d => Delete(table, d),
        RecordVisit v => Visit(table, v),
        LeaseCodeBlock l => LeaseBlock(table, l),
        PurgeIdempotency p => Purge(table, p),
        SetClusterMembers m => SetDocument(table, ClusterDocumentNames.Members, m.ExpectedVersion, m.Document),
        SetClusterDocument d => ClusterDocumentNames.IsKnown(d.Name)
            ? SetDocument(table, d.Name, d.ExpectedVersion, d.Document)
            : throw new InvalidOperationException($"no cluster document is named {d.Name}"),
        AcquireLease a => logIndex > 0
            ? Leased(table, a.Name, LeaseRules.Acquire(FindLease(table, a.Name), a.Name, a.Holder, a.At, a.DurationMs, logIndex, a.Progress))
            : throw new InvalidOperationException("a lease is granted only through a log: its token is the index of the granting entry"),
        RecordLeaseProgress r => Leased(table, r.Name, LeaseRules.Record(FindLease(table, r.Name), r.Token, r.Progress)),
        ReleaseLease r => Leased(table, r.Name, LeaseRules.Release(FindLease(table, r.Name), r.Token, r.At)),
        BeginTransaction b => Recorded(table, TransactionRules.Begin(FindTransaction(table, b.Id), b.Id, b.Participants, b.DeadlineMs)),
        DecideTransaction d => Recorded(table, TransactionRules.Decide(FindTransaction(table, d.Id), d.Id, d.Decision)),
        PrepareIntents p => Prepare(table, p),
        ResolveIntent r => Resolve(table, r),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown link command"),
    };

    /// <summary>The periodic purge: idempotency records past their day, and changes past the feed's retention.</summary>
    private static CommandResult Purge(ILinkTable table, PurgeIdempotency p)
    {
        var through = table.PurgeChanges(p.At - ChangeRetention.KeepMs, ChangeRetention.KeepChanges);
        return new CommandResult(CommandOutcome.Ok, Purged: table.PurgeIdempotency(p.At - IdempotencyRetentionMs), ChangesPurgedThrough: through);
    }

    private static Lease? FindLease(ILinkTable table, string name) =>
        table.FindDocument(Lease.KeyOf(name)) is { } stored ? Lease.Parse(stored.Document) : null;

    /// <summary>Stores the lease a rule changed (Ok), or answers Conflict with the one that stands.</summary>
    private static CommandResult Leased(ILinkTable table, string name, (bool Changed, Lease? Lease) decision)
    {
        if (!decision.Changed)
        {
            return new CommandResult(CommandOutcome.Conflict, Lease: decision.Lease);
        }

        var key = Lease.KeyOf(name);
        table.PutDocument(key, (table.FindDocument(key)?.Version ?? 0) + 1, decision.Lease!.Serialize());
        return new CommandResult(CommandOutcome.Ok, Lease: decision.Lease);
    }

    private static TransactionRecord? FindTransaction(ILinkTable table, string id) =>
        table.FindDocument(TransactionRecord.KeyOf(id)) is { } stored ? TransactionRecord.Parse(stored.Document) : null;

    /// <summary>Stores the record a rule accepted (Ok; a repeated decision writes nothing), or answers Conflict with the one that stands.</summary>
    private static CommandResult Recorded(ILinkTable table, (bool Accepted, TransactionRecord Record) rule)
    {
        if (!rule.Accepted)
        {
            return new CommandResult(CommandOutcome.Conflict, Transaction: rule.Record);
        }

        var key = TransactionRecord.KeyOf(rule.Record.Id);
        var stored = table.FindDocument(key);
        var document = rule.Record.Serialize();
        if (stored?.Document != document)
        {
            table.PutDocument(key, (stored?.Version ?? 0) + 1, document);
        }

        return new CommandResult(CommandOutcome.Ok, Transaction: rule.Record);
    }

    /// <summary>The transaction whose intent holds <paramref name="code"/>, if one does.</summary>
    private static string? LockOn(ILinkTable table, string code) =>
        table.FindDocument(Intent.KeyOf(code)) is { } stored ? Intent.Parse(stored.Document).Txn : null;

    /// <summary>Holds every write as an intent if every one of them can be made now; otherwise none, and the first refusal.</summary>
    private static CommandResult Prepare(ILinkTable table, PrepareIntents p)
    {
        if (table.FindDocument(Intent.IndexKeyOf(p.Txn)) is not null)
        {
            return new CommandResult(CommandOutcome.Ok);
        }

        var codes = p.Writes.Select(w => Intent.CodeOf(w) ?? throw new InvalidOperationException($"a transaction writes links, not {w.GetType().Name}")).ToList();
        if (codes.Count == 0 || codes.Distinct(StringComparer.Ordinal).Count() != codes.Count)
        {
            throw new InvalidOperationException("a transaction's writes in one shard are to distinct codes, at least one");
        }

        foreach (var write in p.Writes)
        {
            if (Refusal(table, write) is { } refused)
            {
                return refused;
            }
        }

        foreach (var write in p.Writes)
        {
            table.PutDocument(Intent.KeyOf(Intent.CodeOf(write)!), 1, new Intent(p.Txn, p.Coordinator, p.DeadlineMs, write).Serialize());
        }

        table.PutDocument(Intent.IndexKeyOf(p.Txn), 1, LinkJson.Serialize(codes));
        return new CommandResult(CommandOutcome.Ok);
    }

    /// <summary>Why <paramref name="write"/> could not be made now (a lock, or what applying it would answer), or null.</summary>
    private static CommandResult? Refusal(ILinkTable table, LinkCommand write)
    {
        var code = Intent.CodeOf(write)!;
        var link = table.Find(code);
        if (LockOn(table, code) is { } txn)
        {
            return new CommandResult(CommandOutcome.Conflict, link, LockedBy: txn);
        }

        return write switch
        {
            CreateLink when link is not null => new CommandResult(CommandOutcome.Conflict, link),
            UpdateLink u when link is null || !link.VisibleTo(u.AsOwner) => CommandResult.NotFound,
            UpdateLink when link!.Deleted => new CommandResult(CommandOutcome.Gone, link),
            DeleteLink d when link is null || !link.VisibleTo(d.AsOwner) => CommandResult.NotFound,
            _ => null,
        };
    }

    /// <summary>Makes (committed) or drops (aborted) the transaction's intent on the code; one already resolved changes nothing.</summary>
    private static CommandResult Resolve(ILinkTable table, ResolveIntent r)
    {
        var key = Intent.KeyOf(r.Code);
        if (table.FindDocument(key) is not { } stored || Intent.Parse(stored.Document) is not { } intent || intent.Txn != r.Txn)
        {
            return new CommandResult(CommandOutcome.Ok);
        }

        table.RemoveDocument(key);
        var index = Intent.IndexKeyOf(r.Txn);
        var left = table.FindDocument(index) is { } list ? LinkJson.Deserialize<List<string>>(list.Document).Where(c => c != r.Code).ToList() : [];
        if (left.Count == 0)
        {
            table.RemoveDocument(index);
        }
        else
        {
            table.PutDocument(index, 1, LinkJson.Serialize(left));
        }

        return r.Decision == TransactionState.Committed
            ? Apply(table, intent.Write) with { Resolved = intent.Write }
            : new CommandResult(CommandOutcome.Ok);
    }

    private static CommandResult SetDocument(ILinkTable table, string name, long expectedVersion, string document)
    {
        var version = table.FindDocument(name)?.Version ?? 0;
        if (version != expectedVersion)
        {
            return new CommandResult(CommandOutcome.Conflict, DocumentVersion: version);
        }

        table.PutDocument(name, version + 1, document);
        return new CommandResult(CommandOutcome.Ok, DocumentVersion: version + 1);
    }

    private static CommandResult Create(ILinkTable table, CreateLink c)
    {
        var existing = table.Find(c.Code);
        if (existing is not null)
        {
            return new CommandResult(CommandOutcome.Conflict, existing);
        }

        var link = new Link(c.Code, c.Url, c.At, c.At, c.ExpiresAt, c.MaxVisits, 0, c.RedirectStatus, c.Tags, c.Title, Deleted: false, c.ValidSince, c.Crawlable, c.ForwardQuery, c.Owner);
        table.Insert(link);
        return new CommandResult(CommandOutcome.Created, link);
    }

    private static CommandResult Update(ILinkTable table, UpdateLink u)
    {
        var link = table.Find(u.Code);
        if (link is null || !link.VisibleTo(u.AsOwner))
        {
            return CommandResult.NotFound;
        }

        if (link.Deleted)
        {
            return new CommandResult(CommandOutcome.Gone, link);
        }

        var p = u.Patch;
        var updated = link with
        {
            Url = p.Url ?? link.Url,
            ExpiresAt = p.Clear.HasFlag(LinkFields.ExpiresAt) ? null : p.ExpiresAt ?? link.ExpiresAt,
            MaxVisits = p.Clear.HasFlag(LinkFields.MaxVisits) ? null : p.MaxVisits ?? link.MaxVisits,
            RedirectStatus = p.RedirectStatus ?? link.RedirectStatus,
            Tags = p.Tags ?? link.Tags,
            Title = p.Clear.HasFlag(LinkFields.Title) ? null : p.Title ?? link.Title,
            ValidSince = p.Clear.HasFlag(LinkFields.ValidSince) ? null : p.ValidSince ?? link.ValidSince,
            Crawlable = p.Crawlable ?? link.Crawlable,
            ForwardQuery = p.ForwardQuery ?? link.ForwardQuery,
            UpdatedAt = Math.Max(link.UpdatedAt, u.At),
        };
        table.Update(updated);
        return new CommandResult(CommandOutcome.Ok, updated);
    }

    private static CommandResult Delete(ILinkTable table, DeleteLink d)
    {
        var link = table.Find(d.Code);
        if (link is null || !link.VisibleTo(d.AsOwner))
        {
            return CommandResult.NotFound;
        }

        if (link.Deleted)
        {
            return new CommandResult(CommandOutcome.Ok, link);
        }

        var deleted = link with { Deleted = true, UpdatedAt = Math.Max(link.UpdatedAt, d.At) };
        table.Update(deleted);
        return new CommandResult(CommandOutcome.Ok, deleted);
    }

    private static CommandResult Visit(ILinkTable table, RecordVisit v)
    {
        var link = table.Find(v.Code);
        if (link is null)
        {
            return CommandResult.NotFound;
        }

        if (link.StateAt(v.At) != LinkState.Active)
        {
            return new CommandResult(CommandOutcome.Gone, link);
        }

        var visited = link with { Visits = link.Visits + 1 };
        table.Update(visited);
        return new CommandResult(CommandOutcome.Ok, visited);
    }

    private static CommandResult LeaseBlock(ILinkTable table, LeaseCodeBlock l)
    {
        var start = table.NextSequence;
        var size = l.Size == 0 ? 1 : l.Size;
        if (start > ulong.MaxValue - size)
        {
            throw new InvalidOperationException("link sequence exhausted");
        }

        table.NextSequence = start + size;
        return new CommandResult(CommandOutcome.Ok, Block: new CodeBlock(start, size));
    }
}
