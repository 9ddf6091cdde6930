using Shortener.Core.Links;
using Shortener.Node.Observability;
using Shortener.Storage.Links;

namespace Shortener.Node.Links;

/// <summary>
/// Sees every command each shard replica applies on this node, in that shard's log order: keeps the
/// redirect cache in step (a code lives in one shard, so its changes arrive in order) and counts
/// commands. A replica that installs a snapshot invalidates the whole cache.
/// </summary>
public sealed class AppliedLinkObserver(RedirectCache cache, ShortenerMetrics metrics)
{
    public void OnApplied(IReadOnlyList<LinkCommandEnvelope> envelopes, IReadOnlyList<BatchItemResult> results)
    {
        if (envelopes.Count > 0)
        {
            metrics.CommitBatch(envelopes.Count);
        }

        for (var i = 0; i < envelopes.Count; i++)
        {
            if (results[i].Duplicate)
            {
                continue;
            }

            var command = envelopes[i].Command;
            var name = CommandName(command);
            if (results[i].Result is not { } result)
            {
                metrics.Command(name, "error");
                continue;
            }

            metrics.Command(name, result.Replayed ? "replayed" : result.Outcome.ToString().ToLowerInvariant());
            if (result.Replayed || result.Link is null || !result.Succeeded)
            {
                continue;
            }

            cache.Committed(result.Link);
            if (result.Outcome == CommandOutcome.Created)
            {
                metrics.LinkCreated();
            }
        }
    }

    public void OnRestored() => cache.Clear();

    internal static string CommandName(LinkCommand command) => command switch
    {
        CreateLink => "create",
        UpdateLink => "update",
        DeleteLink => "delete",
        RecordVisit => "visit",
        LeaseCodeBlock => "lease",
        PurgeIdempotency => "purge",
        SetClusterMembers => "members",
        SetClusterDocument => "document",
        AcquireLease => "acquire-lease",
        RecordLeaseProgress => "lease-progress",
        ReleaseLease => "release-lease",
        BeginTransaction => "txn-begin",
        DecideTransaction => "txn-decide",
        PrepareIntents => "txn-prepare",
        ResolveIntent => "txn-resolve",
        _ => "unknown",
    };
}
