namespace Shortener.Simulation.Raft;

/// <summary>Bugs planted in the simulated driver (not the engine), for checker tests.</summary>
[Flags]
public enum SimDriverBugs
{
    None = 0,

    /// <summary>Send a Ready's messages before its entries and hard state are synced; a crash then loses what was acknowledged.</summary>
    SendBeforeFsync = 1,
}
