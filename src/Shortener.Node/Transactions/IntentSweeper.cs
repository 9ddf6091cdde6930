using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Core.Transactions;
using Shortener.Node.Observability;
using Shortener.Node.Shards;

namespace Shortener.Node.Transactions;

/// <summary>
/// The recovery rule (docs/transactions.md), on every shard this node leads: an intent past its
/// transaction's deadline is resolved from the transaction's record, which is first decided
/// aborted if it is still undecided (or missing): the same compare-and-set the coordinator uses,
/// so a coordinator that went away (its node crashed, or was cut off) blocks nobody for longer
/// than the deadline and a sweep interval. A participant never decides from its intent alone.
/// </summary>
public sealed class IntentSweeper(ShardHost shards, TimeProvider time, ShortenerMetrics metrics, ILogger<IntentSweeper> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    private const int MaxPerSweep = 100;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(Interval, time, stoppingToken).ConfigureAwait(false);
                await SweepAsync(stoppingToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>One pass over the shards this node leads; returns how many intents it resolved.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var resolved = 0;
        foreach (var replica in shards.Replicas.Where(r => r.Status.Role == RaftRole.Leader))
        {
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            foreach (var intent in replica.Links.Intents(MaxPerSweep).Where(i => i.DeadlineMs <= now))
            {
                try
                {
                    var decided = await shards.Replicas[intent.Coordinator].ProposeAsync(new LinkCommandEnvelope(new DecideTransaction(now, intent.Txn, TransactionState.Aborted)), cancellationToken).ConfigureAwait(false);
                    var decision = decided.Transaction?.State is TransactionState.Committed ? TransactionState.Committed : TransactionState.Aborted;
                    var code = Intent.CodeOf(intent.Write)!;
                    await replica.ProposeAsync(new LinkCommandEnvelope(new ResolveIntent(now, code, intent.Txn, decision)), cancellationToken).ConfigureAwait(false);
                    logger.LogInformation("Transaction {Id}: its intent on {Code} was past its deadline; resolved from its record as {Decision}", intent.Txn, code, decision);
                    metrics.IntentRecovered(decision);
                    resolved++;
                }
                catch (ShardUnavailableException e)
                {
                    logger.LogWarning("Transaction {Id}: could not resolve an intent past its deadline yet: {Error}", intent.Txn, e.Message);
                }
            }
        }

        return resolved;
    }
}
