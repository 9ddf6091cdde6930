using Shortener.Core.Raft;
using Shortener.Core.Replication;

namespace Shortener.Storage.Tests.Raft;

internal static class DiskExtensions
{
    /// <summary>Writes one Ready as a driver round would (write, sync when it must, publish): for tests that set up a disk's state by hand.</summary>
    public static void Persist(this IRaftDisk disk, Ready ready)
    {
        disk.Write(ready);
        if (ready.MustSync)
        {
            disk.Sync();
        }

        disk.Publish(ready);
    }
}
