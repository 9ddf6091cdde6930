using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shortener.Core.Links;
using Shortener.Core.Raft;
using Shortener.Node.Links;
using Shortener.Node.Shards;

namespace Shortener.Node.Hosting;

/// <summary>
/// Once an hour, on every shard this node leads, proposes <see cref="PurgeIdempotency"/>: the
/// records older than 24 h are dropped at the same point of the log on every replica.
/// </summary>
public sealed class IdempotencyPurgeService(LinkService links, TimeProvider time, ILogger<IdempotencyPurgeService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            await PurgeAsync(stoppingToken).ConfigureAwait(false);
        }
    }

    /// <summary>Proposes the purge on each shard led here; returns how many records went.</summary>
    public async Task<int> PurgeAsync(CancellationToken cancellationToken)
    {
        var removed = 0;
        foreach (var replica in links.Shards.Replicas.Where(r => r.Status.Role == RaftRole.Leader))
        {
            try
            {
                var result = await links.Propose(replica, new LinkCommandEnvelope(new PurgeIdempotency(time.GetUtcNow().ToUnixTimeMilliseconds())), cancellationToken).ConfigureAwait(false);
                removed += result.Purged;
            }
            catch (Exception e) when (e is ShardUnavailableException or Storage.StorageException)
            {
                logger.LogWarning("Purging idempotency records of shard {Shard} failed; will retry next hour: {Error}", replica.Shard, e.Message);
            }
        }

        if (removed > 0)
        {
            logger.LogInformation("Purged {Count} idempotency records older than 24 h", removed);
        }

        return removed;
    }
}
