namespace Shortener.Simulation.Raft;

public enum KvOperation : byte
{
    Put,
    Get,

    /// <summary>Compare-and-set: write the new value only if the current one equals the expected one.</summary>
    Cas,
}
