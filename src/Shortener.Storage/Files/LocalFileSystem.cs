using Shortener.Storage.Raft;

namespace Shortener.Storage.Files;

/// <summary>The machine's own file system.</summary>
public sealed class LocalFileSystem : IFileSystem
{
    public static readonly LocalFileSystem Instance = new();

    private LocalFileSystem()
    {
    }

    public void CreateDirectory(string path) => Directory.CreateDirectory(path);

    public IReadOnlyList<string> Files(string directory, string suffix) => Directory.GetFiles(directory, "*" + suffix);

    public byte[] ReadAll(string path) => File.ReadAllBytes(path);

    public IAppendFile Create(string path) => new LocalFile(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read));

    public IAppendFile OpenAppend(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.Read);
        stream.Seek(0, SeekOrigin.End);
        return new LocalFile(stream);
    }

    public void Truncate(string path, long length)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
        stream.SetLength(length);
        stream.Flush(flushToDisk: true);
    }

    public void Delete(string path) => File.Delete(path);

    public void Move(string source, string destination) => File.Move(source, destination, overwrite: true);

    public void SyncDirectory(string directory) => DirectorySync.Fsync(directory);

    private sealed class LocalFile(FileStream stream) : IAppendFile
    {
        public long Length => stream.Length;

        public void Write(ReadOnlySpan<byte> data) => stream.Write(data);

        public void Flush() => stream.Flush(flushToDisk: false);

        public void Sync() => stream.Flush(flushToDisk: true);

        public void Dispose() => stream.Dispose();
    }
}
