using Microsoft.Extensions.Logging;
using Shortener.Core.Links;
using Shortener.Node.Membership;

namespace Shortener.Node.Sinks;

/// <summary>
/// This node's copy of the cluster's sinks: follows the <c>sinks</c> document shard 0 replicates,
/// taking only newer versions and only lists it can read (a bad one is logged, never thrown on the
/// apply path). The deliverers read it every round.
/// </summary>
public sealed class SinkRegistry(ILogger<SinkRegistry> logger) : IClusterDocumentReader
{
    private sealed record Held(long Version, SinkList List);

    private Held _current = new(0, SinkList.Empty);

    public string Name => ClusterDocumentNames.Sinks;

    public (long Version, SinkList List) Current
    {
        get
        {
            var held = Volatile.Read(ref _current);
            return (held.Version, held.List);
        }
    }

    public void Adopt(string document, long version)
    {
        if (version <= Current.Version)
        {
            return;
        }

        if (SinkList.TryParse(document) is not { } list)
        {
            logger.LogError("Sink list version {Version} is not one this node can read; keeping version {Kept}", version, Current.Version);
            return;
        }

        Volatile.Write(ref _current, new Held(version, list));
        logger.LogInformation("Sink list version {Version}: {Sinks}", version, string.Join(", ", list.Sinks.Select(s => $"{s.Name} ({s.Kind})")));
    }
}
