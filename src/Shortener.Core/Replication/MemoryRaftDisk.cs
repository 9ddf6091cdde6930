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

    public void Publish(Ready ready) => Storage.Publish(ready);

    public void Compact(ulong index, ConfState configuration, byte[] data, ulong keepEntries)
    {
        Storage.CreateSnapshot(index, configuration, data);
        if (index > keepEntries)
        {
            Storage.Compact(index - keepEntries);
        }
    }
}
