namespace Shortener.Node.Faults;

/// <summary>What one node answered to a fault: its fault state now, or why it could not be reached.</summary>
public sealed record FaultOutcome(ulong Node, bool Applied, string Detail);
