using Shortener.Core.Changes;
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

    public static CommandResult Apply(ILinkTable table, LinkCommandEnvelope envelope)
    {
        if (envelope.Idempotency is not { } token)
        {
            return Apply(table, envelope.Command);
        }

        var previous = table.FindIdempotency(token.Scope, token.Key);
        if (previous is not null && envelope.Command.At - previous.CreatedAt < IdempotencyRetentionMs)
        {
            return previous.RequestHash == token.RequestHash
                ? previous.Result with { Replayed = true }
                : CommandResult.IdempotencyMismatch;
        }

        var result = Apply(table, envelope.Command);
        if (result.Outcome == CommandOutcome.Conflict && envelope.Command is CreateLink { Generated: true })
        {
            return result;
        }

        table.PutIdempotency(new IdempotencyRecord(token.Scope, token.Key, token.RequestHash, result, envelope.Command.At));
        return result;
    }

    public static CommandResult Apply(ILinkTable table, LinkCommand command) => command switch
    {
        CreateLink c => Create(table, c),
        UpdateLink u => Update(table, u),
        DeleteLink d => Delete(table, d),
        RecordVisit v => Visit(table, v),
        LeaseCodeBlock l => Lease(table, l),
        PurgeIdempotency p => Purge(table, p),
        SetClusterMembers m => SetDocument(table, ClusterDocumentNames.Members, m.ExpectedVersion, m.Document),
        SetClusterDocument d => ClusterDocumentNames.IsKnown(d.Name)
            ? SetDocument(table, d.Name, d.ExpectedVersion, d.Document)
            : throw new InvalidOperationException($"no cluster document is named {d.Name}"),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown link command"),
    };

    /// <summary>The periodic purge: idempotency records past their day, and changes past the feed's retention.</summary>
    private static CommandResult Purge(ILinkTable table, PurgeIdempotency p)
    {
        table.PurgeChanges(p.At - ChangeRetention.KeepMs, ChangeRetention.KeepChanges);
        return new CommandResult(CommandOutcome.Ok, Purged: table.PurgeIdempotency(p.At - IdempotencyRetentionMs));
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

    private static CommandResult Lease(ILinkTable table, LeaseCodeBlock l)
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
