using Shortener.Core;
using Shortener.Storage.Files;

namespace Shortener.Simulation.Disk;

/// <summary>
/// A simulated disk for one node: files in memory under POSIX's durability rules, which the real
/// WAL and snapshot code run on unchanged. A file's bytes are durable once it is synced, its name
/// (a creation, a rename, a removal) once its directory is. <see cref="Crash"/> is a power loss:
/// the names go back to what was durable, every file to its synced length, and with torn writes a
/// file keeps a random prefix of what it had not synced, in which a bit may be flipped (a sector
/// half written). Synced bytes are never damaged: recovery must cope with the rest.
/// </summary>
public sealed class SimFileSystem : IFileSystem
{
    private readonly HashSet<string> _directories = new(StringComparer.Ordinal);
    private Dictionary<string, SimFile> _names = new(StringComparer.Ordinal);
    private Dictionary<string, SimFile> _durableNames = new(StringComparer.Ordinal);

    /// <summary>fsyncs of files and directories, for the report.</summary>
    public long Syncs { get; private set; }

    /// <summary>Bytes written, for the report.</summary>
    public long BytesWritten { get; private set; }

    /// <summary>Open handles from before a crash stop working: the process that held them is gone.</summary>
    private long _epoch;

    public void CreateDirectory(string path) => _directories.Add(Normalize(path));

    public IReadOnlyList<string> Files(string directory, string suffix)
    {
        var prefix = Normalize(directory) + "/";
        return _names.Keys
            .Where(n => n.StartsWith(prefix, StringComparison.Ordinal) && n.IndexOf('/', prefix.Length) < 0 && n.EndsWith(suffix, StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .ToList();
    }

    public byte[] ReadAll(string path) => Get(path).Content().ToArray();

    public IAppendFile Create(string path)
    {
        var file = new SimFile();
        _names[Normalize(path)] = file;
        return new Handle(this, file, _epoch);
    }

    public IAppendFile OpenAppend(string path) => new Handle(this, Get(path), _epoch);

    public void Truncate(string path, long length)
    {
        var file = Get(path);
        file.Truncate(length);
        file.Sync();
        Syncs++;
    }

    public void Delete(string path) => _names.Remove(Normalize(path));

    public void Move(string source, string destination)
    {
        var file = Get(source);
        _names.Remove(Normalize(source));
        _names[Normalize(destination)] = file;
    }

    public void SyncDirectory(string directory)
    {
        var prefix = Normalize(directory) + "/";
        bool InDirectory(string n) => n.StartsWith(prefix, StringComparison.Ordinal) && n.IndexOf('/', prefix.Length) < 0;
        foreach (var gone in _durableNames.Keys.Where(InDirectory).Where(n => !_names.ContainsKey(n)).ToList())
        {
            _durableNames.Remove(gone);
        }

        foreach (var (name, file) in _names.Where(n => InDirectory(n.Key)))
        {
            _durableNames[name] = file;
        }

        Syncs++;
    }

    /// <summary>
    /// A power loss. What was not synced is lost; with <paramref name="tornWrites"/>, each file keeps
    /// a random prefix of its unsynced bytes, one bit of which may be flipped. Returns what it did,
    /// for the fault log.
    /// </summary>
    public string Crash(SeededRandom random, bool tornWrites)
    {
        _epoch++;
        _names = new Dictionary<string, SimFile>(_durableNames, StringComparer.Ordinal);
        var torn = 0;
        var flipped = 0;
        foreach (var file in _names.Values.Distinct())
        {
            var kept = 0;
            if (tornWrites && file.Unsynced > 0 && random.Chance(0.5))
            {
                kept = random.Next(file.Unsynced + 1);
                torn += kept > 0 ? 1 : 0;
                if (kept > 0 && random.Chance(0.3))
                {
                    file.FlipBit(file.SyncedLength + random.Next(kept), random.Next(8));
                    flipped++;
                }
            }

            file.LoseUnsynced(kept);
        }

        return tornWrites ? $"{torn} files torn, {flipped} bits flipped" : "unsynced writes lost";
    }

    private SimFile Get(string path) =>
        _names.TryGetValue(Normalize(path), out var file) ? file : throw new FileNotFoundException($"no file {path} on the simulated disk", path);

    private static string Normalize(string path) => path.Replace('\\', '/').TrimEnd('/');

    /// <summary>One file's bytes: the first <see cref="SyncedLength"/> are durable, the rest only in the page cache.</summary>
    private sealed class SimFile
    {
        private byte[] _data = new byte[256];
        private int _length;

        public int SyncedLength { get; private set; }

        public int Length => _length;

        public int Unsynced => _length - SyncedLength;

        public ReadOnlySpan<byte> Content() => _data.AsSpan(0, _length);

        public void Append(ReadOnlySpan<byte> bytes)
        {
            if (_length + bytes.Length > _data.Length)
            {
                Array.Resize(ref _data, Math.Max(_data.Length * 2, _length + bytes.Length));
            }

            bytes.CopyTo(_data.AsSpan(_length));
            _length += bytes.Length;
        }

        public void Sync() => SyncedLength = _length;

        public void Truncate(long length)
        {
            _length = (int)Math.Min(_length, length);
            SyncedLength = Math.Min(SyncedLength, _length);
        }

        public void LoseUnsynced(int keep) => _length = SyncedLength + keep;

        public void FlipBit(int offset, int bit) => _data[offset] ^= (byte)(1 << bit);
    }

    private sealed class Handle(SimFileSystem disk, SimFile file, long epoch) : IAppendFile
    {
        public long Length => file.Length;

        public void Write(ReadOnlySpan<byte> data)
        {
            Live();
            file.Append(data);
            disk.BytesWritten += data.Length;
        }

        public void Flush() => Live();

        public void Sync()
        {
            Live();
            file.Sync();
            disk.Syncs++;
        }

        public void Dispose()
        {
        }

        private void Live()
        {
            if (epoch != disk._epoch)
            {
                throw new IOException("the simulated node crashed: this file handle belongs to a process that is gone");
            }
        }
    }
}
