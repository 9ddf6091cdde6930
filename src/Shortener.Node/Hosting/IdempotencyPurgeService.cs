using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shortener.Core.Links;
using Shortener.Storage.Links;

namespace Shortener.Node.Hosting;

/// <summary>Drops idempotency records older than the 24-hour retention, once at start and then every hour.</summary>
public sealed class IdempotencyPurgeService(SqliteLinkStore store, TimeProvider time, ILogger<IdempotencyPurgeService> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                var cutoff = time.GetUtcNow().ToUnixTimeMilliseconds() - LinkStateMachine.IdempotencyRetentionMs;
                var removed = store.PurgeIdempotency(cutoff);
                if (removed > 0)
                {
                    logger.LogInformation("Purged {Count} idempotency records older than 24 h", removed);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Purging idempotency records failed; will retry");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
