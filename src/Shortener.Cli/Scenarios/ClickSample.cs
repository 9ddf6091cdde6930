namespace Shortener.Cli.Scenarios;

/// <summary>What one node said, at one moment (ms since the scenario started), of the clicks of the hot links together (-1: it could not say).</summary>
public sealed record ClickSample(long AtMs, ulong Node, long Total);
