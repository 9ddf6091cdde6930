namespace Shortener.Core.Quorum;

public enum QuorumOutcome
{
    Pending,
    Succeeded,
    /// <summary>Too many replicas failed for the level to be reached.</summary>
    Failed,
}
