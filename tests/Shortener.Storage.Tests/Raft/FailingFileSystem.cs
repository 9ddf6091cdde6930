using Shortener.Simulation.Disk;
using Shortener.Storage.Files;

namespace Shortener.Storage.Tests.Raft;

/// <summary>
/// A simulated file system whose file fsyncs start failing at a chosen one (after its write went
/// through), to stop a log at an exact point between a write and its fsync; then crash the
/// <see cref="SimFileSystem"/> underneath to lose what was not synced.
/// </summary>
internal sealed class FailingFileSystem(SimFileSystem inner) : IFileSystem
{
    private int _syncsLeft = -1;

    /// <summary>The <paramref name="n"/>th file fsync from now (1: the next) and every one after it fail.</summary>
    public void FailSyncsFrom(int n) => _syncsLeft = n - 1;

    public void CreateDirectory(string path) => inner.CreateDirectory(path);

    public IReadOnlyList<string> Files(string directory, string suffix) => inner.Files(directory, suffix);

    public byte[] ReadAll(string path) => inner.ReadAll(path);

    public IAppendFile Create(string path) => new File(this, inner.Create(path));

    public IAppendFile OpenAppend(string path) => new File(this, inner.OpenAppend(path));

    public void Truncate(string path, long length) => inner.Truncate(path, length);

    public void Delete(string path) => inner.Delete(path);

    public void Move(string source, string destination) => inner.Move(source, destination);

    public void SyncDirectory(string directory) => inner.SyncDirectory(directory);

    private sealed class File(FailingFileSystem owner, IAppendFile file) : IAppendFile
    {
        public long Length => file.Length;

        public void Write(ReadOnlySpan<byte> data) => file.Write(data);

        public void Flush() => file.Flush();

        public void Sync()
        {
            if (owner._syncsLeft == 0)
            {
                throw new IOException("fsync failed (injected)");
            }

            if (owner._syncsLeft > 0)
            {
                owner._syncsLeft--;
            }

            file.Sync();
        }

        public void Dispose() => file.Dispose();
    }
}
