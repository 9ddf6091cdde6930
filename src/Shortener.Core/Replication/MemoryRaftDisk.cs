using Shortener.Core.Raft;

namespace Shortener.Core.Replication;

/// <summary>
/// A disk that is only memory: what a round writes becomes the log when it is published. For
/// tests and the engine benchmark, where durability is not the question (a "crash" keeps
/// everything published).
/// </summary>
public sealed class MemoryRaftDisk : IRaftDisk
{
    public MemoryRaftStorage Storage { get; } = new();

    public IRaftStorage Log => Storage;

    public void Write(Ready ready)
    {
    }

    public void Sync()
    {
    }

    public void Publish(Ready ready)
    {
        if (ready.Snapshot is { } snapshot)
        {
            Storage.ApplySnapshot(snapshot);
        }

        Storage.Append(ready.Entries);
        if (!ready.HardState.IsEmpty)
        {
            Storage.SetHardState(ready.HardState);
        }
    }

    public void Compact(ulong index, ConfState configuration, byte[] data, ulong keepEntries)
    {
        Storage.CreateSnapshot(index, configuration, data);
        if (index > keepEntries)
        {
            Storage.Compact(index - keepEntries);
        }
    }
}
