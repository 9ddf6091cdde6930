namespace Shortener.Simulation.Checkers;

/// <summary>The verdict on a history: linearizable or not, and where not, the key and its operations.</summary>
public sealed record LinearizabilityResult(bool Linearizable, bool Inconclusive, string? Key, IReadOnlyList<RegisterOperation> Operations, long Steps)
{
    public string Describe() => Linearizable
        ? Inconclusive ? $"inconclusive after {Steps} steps" : "linearizable"
        : $"key '{Key}' is not linearizable:\n  " + string.Join("\n  ", Operations.OrderBy(o => o.Invoke));
}
