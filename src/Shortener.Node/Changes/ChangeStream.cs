using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http;
using Shortener.Node.Api;
using Shortener.Core.Changes;
using Shortener.Node.Shards;

namespace Shortener.Node.Changes;

/// <summary>
/// The change feed as Server-Sent Events (docs/cdc.md): each change is an event whose data is its
/// CloudEvent and whose <c>id</c> is the feed position after it, so a client that reconnects with
/// <c>Last-Event-ID</c> resumes exactly there. With a snapshot, every live link comes first as an
/// <c>op: r</c> event (no ids: a snapshot cut short is read again), then one <c>snapshot</c> event
/// with the position the snapshot reflects, then the changes after it: no gap, no repeat. A
/// comment every <see cref="ServerSentEvents.KeepAlive"/> keeps idle connections open through proxies.
/// </summary>
public sealed class ChangeStream(ChangeFeed feed, ShardHost shards, ChangeEventFormat format, TimeProvider time)
{
    /// <summary>Sends every live link as it stands now (op r), then the <c>snapshot</c> event; returns the position it reflects.</summary>
    public async Task<ChangePosition> WriteSnapshotAsync(HttpResponse response, CancellationToken cancellationToken)
    {
        await shards.Replicas[0].Links.WhenCommittedAsync().ConfigureAwait(false);
        var position = ChangePosition.Start;
        var links = 0;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var replica in shards.Replicas)
        {
            using var scan = replica.Links.ScanLinks();
            var point = new ChangeOffset(replica.Shard, scan.AppliedIndex, 0);
            while (scan.Next() is { } link)
            {
                await ServerSentEvents.WriteAsync(response, null, null, format.Encode(LinkChanges.Read(link, point, 0, now)), cancellationToken).ConfigureAwait(false);
                if (++links % 256 == 0)
                {
                    await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            // Every change of this shard up to the scanned index is in the links above; the ones after follow.
            position = position.After(point with { Position = int.MaxValue });
        }

        var summary = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"links\":{links},\"shards\":{shards.Replicas.Count}}}"));
        await ServerSentEvents.WriteAsync(response, "snapshot", position.ToString(), summary, cancellationToken).ConfigureAwait(false);
        await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);
        return position;
    }

    /// <summary>Sends <paramref name="first"/> (a page already read, so a bad position was answered before the stream began), then every change after it as it is applied, until the client goes away.</summary>
    public async Task FollowAsync(HttpResponse response, ChangePosition position, ChangePage? first, CancellationToken cancellationToken)
    {
        var page = first;
        while (!cancellationToken.IsCancellationRequested)
        {
            var changed = feed.WhenChangedAsync();
            page ??= await feed.ReadAsync(position, ChangeFeed.MaxLimit, cancellationToken).ConfigureAwait(false);
            foreach (var change in page.Changes)
            {
                position = position.After(change.Offset);
                await ServerSentEvents.WriteAsync(response, null, position.ToString(), format.Encode(change), cancellationToken).ConfigureAwait(false);
            }

            await response.Body.FlushAsync(cancellationToken).ConfigureAwait(false);

            // A full page may have more behind it; and the first page was read before this loop's
            // signal was taken, so what came in between is read now rather than waited for.
            var more = page.Changes.Count == ChangeFeed.MaxLimit || ReferenceEquals(page, first);
            page = null;
            if (more)
            {
                continue;
            }

            await ServerSentEvents.WaitAsync(response, changed, time, cancellationToken).ConfigureAwait(false);
        }
    }
}
