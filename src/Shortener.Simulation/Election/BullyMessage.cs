namespace Shortener.Simulation.Election;

/// <summary>The bully algorithm's three messages.</summary>
public enum BullyMessageType
{
    /// <summary>"I am holding an election": sent to every node with a higher id.</summary>
    Election,

    /// <summary>"I am alive and higher than you; stand down": the answer to an election.</summary>
    Answer,

    /// <summary>"I am the coordinator of this epoch": sent on winning and then as the leader's heartbeat.</summary>
    Coordinator,
}

/// <summary>
/// One bully message: <see cref="Epoch"/> is the coordinator's (0 on the others); <see cref="Stamp"/>
/// is the sender's Lamport time at the send.
/// </summary>
public readonly record struct BullyMessage(BullyMessageType Type, ulong From, ulong To, ulong Epoch, ulong Stamp = 0);
