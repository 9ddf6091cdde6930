namespace Shortener.Cli.Scenarios;

/// <summary>The cluster a scenario runs against: each node's API address and data centre, and the API key.</summary>
public sealed record ScenarioTarget(IReadOnlyDictionary<ulong, Uri> Nodes, IReadOnlyDictionary<ulong, string> DcOf, string? ApiKey)
{
    public const int MinDataCentres = 3;

    public IReadOnlyList<string> DataCentres => DcOf.Values.Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Null when the scenario can run here; else why not, in a sentence for the user.</summary>
    public string? Unsuitable(string? isolate)
    {
        if (DataCentres.Count < MinDataCentres)
        {
            return $"the scenario needs a cluster in at least {MinDataCentres} data centres, so that one can be cut off while a majority remains; this one has {DataCentres.Count} ({string.Join(", ", DataCentres)})";
        }

        return isolate is not null && !DataCentres.Contains(isolate)
            ? $"--isolate {isolate}: the cluster has no such data centre (it has {string.Join(", ", DataCentres)})"
            : null;
    }
}
