namespace Shortener.Node.Tests;

/// <summary>
/// Tests that read exact counts from /metrics. A node's exporter listens to every meter named
/// "Shortener" in the process, so another test's node redirecting at the same moment would add to
/// the counts: these tests run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessWideMetrics
{
    public const string Name = "process-wide metrics";
}
