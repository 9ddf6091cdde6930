using Shortener.Core.Changes;
using Shortener.Core.Leases;
using Shortener.Core.Links;
using Shortener.Node.Membership;
using Shortener.Node.Shards;

namespace Shortener.Node.Sinks;

/// <summary>A sink's delivery of one shard as the shard's committed lease shows it, with the backlog after it.</summary>
public sealed record SinkShardStatus(
    int Shard,
    ulong Holder,
    ulong Token,
    long ExpiresAtMs,
    string? DeliveredThrough,
    int LagEvents,
    long LagMs,
    int DeadLetters,
    IReadOnlyList<DeadLetter> RecentDeadLetters,
    DelivererView? Here);

/// <summary>One sink and its shards.</summary>
public sealed record SinkStatus(SinkDefinition Sink, IReadOnlyList<SinkShardStatus> Shards)
{
    public int LagEvents => Shards.Sum(s => s.LagEvents);

    public long LagMs => Shards.Count == 0 ? 0 : Shards.Max(s => s.LagMs);
}

/// <summary>
/// Adds, lists and removes the cluster's sinks (the <c>sinks</c> document shard 0 replicates, by
/// compare-and-set), and reports their delivery from this node's replicas.
/// </summary>
public sealed class SinkService(ShardHost shards, SinkRegistry registry, SinkWriterFactory writers, SinkDeliveryService deliveries, TimeProvider time)
{
    /// <summary>Lag is counted up to this many events per shard (the count reads the rows).</summary>
    public const int LagCap = 100_000;

    /// <summary>Adds a sink once it answers (refused Unreachable otherwise); returns it with its secret, shown this once.</summary>
    public async Task<SinkDefinition> AddAsync(SinkDefinition sink, CancellationToken cancellationToken)
    {
        await using (var writer = writers.Create(sink))
        {
            using var probe = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            probe.CancelAfter(TimeSpan.FromSeconds(3));
            try
            {
                await writer.ProbeAsync(probe.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new SinkRefusedException(SinkRefusal.Unreachable, $"{sink.Url} cannot be reached from this node: {e.Message}");
            }
        }

        await ChangeAsync(list => list.With(sink), cancellationToken).ConfigureAwait(false);
        return sink;
    }

    public async Task<SinkDefinition> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        // Taken from the list the removal read linearizably: this node's copy may not have the sink yet.
        SinkDefinition? removed = null;
        await ChangeAsync(
            list =>
            {
                removed = list.Find(name);
                return list.Without(name);
            },
            cancellationToken).ConfigureAwait(false);
        return removed!;
    }

    /// <summary>The sinks as of a linearizable read of shard 0.</summary>
    public async Task<(long Version, SinkList List)> ListAsync(CancellationToken cancellationToken)
    {
        await shards.Replicas[0].WaitLinearizableAsync(cancellationToken).ConfigureAwait(false);
        return registry.Current;
    }

    /// <summary>Every sink's delivery per shard as this node's replicas committed it (a few hundred milliseconds behind the holder).</summary>
    public async Task<IReadOnlyList<SinkStatus>> StatusAsync(string? only, CancellationToken cancellationToken)
    {
        var (_, list) = await ListAsync(cancellationToken).ConfigureAwait(false);
        if (only is not null && list.Find(only) is null)
        {
            throw new SinkRefusedException(SinkRefusal.NotFound, $"no sink is named {only}");
        }

        await shards.Replicas[0].Links.WhenCommittedAsync().ConfigureAwait(false);
        var here = deliveries.Views.ToDictionary(v => (v.Sink, v.Shard));
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return [.. list.Sinks.Where(s => only is null || s.Name == only).Select(sink => new SinkStatus(sink.Public(), [.. shards.Replicas.Select(replica =>
        {
            var lease = replica.Links.Document(Lease.KeyOf(sink.LeaseName)) is { } stored ? Lease.Parse(stored.Document) : null;
            var progress = SinkProgress.Parse(lease?.Progress);
            var (lag, oldest) = replica.Links.Backlog(progress.After(replica.Shard), LagCap);
            return new SinkShardStatus(
                replica.Shard,
                lease?.Holder ?? 0,
                lease?.Token ?? 0,
                lease?.ExpiresAtMs ?? 0,
                progress.After(replica.Shard)?.Id,
                lag,
                oldest is { } at ? Math.Max(0, now - at) : 0,
                progress.Dead?.Count ?? 0,
                progress.Dead ?? [],
                here.GetValueOrDefault((sink.Name, replica.Shard)));
        })]))];
    }

    private Task<SinkList> ChangeAsync(Func<SinkList, SinkList?> change, CancellationToken cancellationToken) =>
        ClusterDocumentEditor.ChangeAsync(
            shards,
            time,
            ClusterDocumentNames.Sinks,
            () => registry.Current,
            change,
            list => list.Serialize(),
            version => new SinkRefusedException(SinkRefusal.Conflict, $"the sink list kept changing underneath (now at version {version}); try again"),
            cancellationToken);
}
