namespace Shortener.Cli.Scenarios;

/// <summary>The cluster a scenario runs against: each node's API address and data centre, and the API key.</summary>
public sealed record ScenarioTarget(IReadOnlyDictionary<ulong, Uri> Nodes, IReadOnlyDictionary<ulong, string> DcOf, string? ApiKey)
{
    public const int MinDataCentres = 3;

    public IReadOnlyList<string> DataCentres => DcOf.Values.Distinct().Order(StringComparer.Ordinal).ToList();

    /// <summary>Null when any scenario can run here; else why not, in a sentence for the user.</summary>
    public string? Unsuitable() => DataCentres.Count < MinDataCentres
        ? $"the scenario needs a cluster in at least {MinDataCentres} data centres, so that one can be cut off while a majority remains; this one has {DataCentres.Count} ({string.Join(", ", DataCentres)})"
        : null;

    /// <summary>The members in <paramref name="dc"/>, lowest id first.</summary>
    public IReadOnlyList<ulong> NodesIn(string dc) => DcOf.Where(d => d.Value == dc).Select(d => d.Key).Order().ToList();

    /// <summary>Null when <paramref name="dc"/> is not given or is one of the data centres; else why not, naming <paramref name="option"/>.</summary>
    public string? UnknownDc(string? dc, string option) =>
        dc is not null && !DataCentres.Contains(dc)
            ? $"{option} {dc}: the cluster has no such data centre (it has {string.Join(", ", DataCentres)})"
            : null;
}
