using System.Buffers.Binary;
using System.Globalization;
using Shortener.Core.Raft;
using Shortener.Storage.Files;

namespace Shortener.Storage.Raft;

/// <summary>
/// Snapshot files, each written atomically: to a temporary name, fsynced, renamed, and the directory
/// fsynced. Layout: magic, index, term, configuration, data, CRC-32C of all before it. A file that
/// fails its check (a crash mid-write never leaves one under a final name, but disks rot) is passed
/// over for the next older one.
/// </summary>
public sealed class SnapshotFileStore
{
    private static readonly byte[] Magic = "SHSNAP01"u8.ToArray();
    private readonly string _directory;
    private readonly IFileSystem _files;

    public SnapshotFileStore(string directory, IFileSystem? fileSystem = null)
    {
        _directory = directory;
        _files = fileSystem ?? LocalFileSystem.Instance;
        _files.CreateDirectory(directory);
        foreach (var leftover in _files.Files(directory, ".tmp"))
        {
            _files.Delete(leftover);
        }
    }

    public string Save(RaftSnapshot snapshot)
    {
        var meta = snapshot.Metadata;
        var name = Path.Combine(_directory, $"{meta.Term:x16}-{meta.Index:x16}.snap");
        var temp = name + ".tmp";
        var conf = EncodeConf(meta.ConfState);
        var bytes = new byte[Magic.Length + 16 + 4 + conf.Length + 8 + snapshot.Data.Length + 4];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        var at = Magic.Length;
        BinaryPrimitives.WriteUInt64LittleEndian(span[at..], meta.Index);
        BinaryPrimitives.WriteUInt64LittleEndian(span[(at + 8)..], meta.Term);
        at += 16;
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], conf.Length);
        at += 4;
        conf.CopyTo(span[at..]);
        at += conf.Length;
        BinaryPrimitives.WriteInt64LittleEndian(span[at..], snapshot.Data.Length);
        at += 8;
        snapshot.Data.CopyTo(span[at..]);
        at += snapshot.Data.Length;
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32C.Compute(span[..at]));
        using (var file = _files.Create(temp))
        {
            file.Write(bytes);
            file.Sync();
        }

        _files.Move(temp, name);
        _files.SyncDirectory(_directory);
        return name;
    }

    /// <summary>The newest snapshot whose file is intact, or null; <paramref name="skipped"/> lists damaged newer ones.</summary>
    public RaftSnapshot? LoadNewest(out IReadOnlyList<string> skipped)
    {
        var damaged = new List<string>();
        skipped = damaged;
        foreach (var path in Files().OrderByDescending(f => f.Term).ThenByDescending(f => f.Index).Select(f => f.Path))
        {
            if (TryLoad(_files.ReadAll(path)) is { } snapshot)
            {
                return snapshot;
            }

            damaged.Add(path);
        }

        return null;
    }

    /// <summary>Deletes all but the newest <paramref name="keep"/> snapshots.</summary>
    public void Purge(int keep)
    {
        foreach (var old in Files().OrderByDescending(f => f.Index).Skip(keep))
        {
            _files.Delete(old.Path);
        }
    }

    private IEnumerable<(string Path, ulong Term, ulong Index)> Files() =>
        _files.Files(_directory, ".snap").Select(path =>
        {
            var name = Path.GetFileNameWithoutExtension(path);
            var parts = name.Split('-');
            return parts.Length == 2
                && ulong.TryParse(parts[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var term)
                && ulong.TryParse(parts[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var index)
                ? (path, term, index)
                : (path, 0UL, 0UL);
        });

    private static RaftSnapshot? TryLoad(byte[] bytes)
    {
        var span = bytes.AsSpan();
        if (bytes.Length < Magic.Length + 16 + 4 + 8 + 4 || !span[..Magic.Length].SequenceEqual(Magic))
        {
            return null;
        }

        if (Crc32C.Compute(span[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]))
        {
            return null;
        }

        var at = Magic.Length;
        var index = BinaryPrimitives.ReadUInt64LittleEndian(span[at..]);
        var term = BinaryPrimitives.ReadUInt64LittleEndian(span[(at + 8)..]);
        at += 16;
        var confLength = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        var conf = DecodeConf(span.Slice(at, confLength));
        at += confLength;
        var dataLength = (int)BinaryPrimitives.ReadInt64LittleEndian(span[at..]);
        at += 8;
        return new RaftSnapshot(new SnapshotMetadata(index, term, conf), span.Slice(at, dataLength).ToArray());
    }

    private static byte[] EncodeConf(ConfState conf)
    {
        IReadOnlyList<ulong>[] lists = [conf.Voters, conf.Learners, conf.VotersOutgoing, conf.LearnersNext];
        var bytes = new byte[1 + lists.Sum(l => 4 + (8 * l.Count))];
        bytes[0] = conf.AutoLeave ? (byte)1 : (byte)0;
        var at = 1;
        foreach (var list in lists)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), list.Count);
            at += 4;
            foreach (var id in list)
            {
                BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(at), id);
                at += 8;
            }
        }

        return bytes;
    }

    private static ConfState DecodeConf(ReadOnlySpan<byte> bytes)
    {
        var autoLeave = bytes[0] == 1;
        var at = 1;
        var lists = new ulong[4][];
        for (var l = 0; l < 4; l++)
        {
            var count = BinaryPrimitives.ReadInt32LittleEndian(bytes[at..]);
            at += 4;
            lists[l] = new ulong[count];
            for (var i = 0; i < count; i++)
            {
                lists[l][i] = BinaryPrimitives.ReadUInt64LittleEndian(bytes[at..]);
                at += 8;
            }
        }

        return new ConfState(lists[0], lists[1], lists[2], lists[3], autoLeave);
    }
}
