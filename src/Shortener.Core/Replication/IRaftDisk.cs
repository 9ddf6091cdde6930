using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>
/// A replica's durable Raft state as the <see cref="ReplicaDriver{TResult}"/> uses it. A round
/// writes a Ready's records (<see cref="Write"/>), the host makes them durable (<see cref="Sync"/>,
/// which a host of many replicas may do for all of them at once), and the driver then makes them
/// visible to the engine (<see cref="Publish"/>). Production keeps this on the real WAL and
/// snapshot files; the simulator puts the same files on a simulated disk; tests keep it in memory.
/// </summary>
public interface IRaftDisk
{
    /// <summary>The log as the engine reads it: what has been published.</summary>
    IRaftStorage Log { get; }

    /// <summary>Writes the Ready's snapshot, entries and hard state, in that order, without waiting for the disk.</summary>
    void Write(Ready ready);

    /// <summary>Waits until everything written so far is durable.</summary>
    void Sync();

    /// <summary>Once the Ready's records are durable: hands them to <see cref="Log"/>.</summary>
    void Publish(Ready ready);

    /// <summary>
    /// Records a snapshot of the applied state at <paramref name="index"/> (durably), then drops log
    /// entries up to <paramref name="index"/> less <paramref name="keepEntries"/>.
    /// </summary>
    void Compact(ulong index, ConfState configuration, byte[] data, ulong keepEntries);
}
