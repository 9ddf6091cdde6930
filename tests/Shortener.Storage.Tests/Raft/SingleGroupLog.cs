using Shortener.Core.Raft;
using Shortener.Storage.Files;
using Shortener.Storage.Raft;

namespace Shortener.Storage.Tests.Raft;

/// <summary>A log engine holding one group, as the log tests drive it: one replica's log alone.</summary>
internal sealed class SingleGroupLog : IDisposable
{
    private SingleGroupLog(RaftLogEngine engine, RaftLogGroup group)
    {
        Engine = engine;
        Group = group;
    }

    public RaftLogEngine Engine { get; }

    public RaftLogGroup Group { get; }

    public int SegmentCount => Engine.SegmentCount;

    public static (SingleGroupLog Wal, RecoveredRaftState State) Open(string directory, long segmentBytes = RaftLogEngine.DefaultSegmentBytes, IFileSystem? fileSystem = null)
    {
        var engine = RaftLogEngine.Open(directory, segmentBytes, fileSystem);
        var group = engine.Group(1);
        return (new SingleGroupLog(engine, group), group.Recovered);
    }

    public void Append(HardState hardState, IReadOnlyList<RaftEntry> entries) => Group.Append(hardState, entries);

    public void AppendSnapshot(ulong index, ulong term, bool installed) => Group.AppendSnapshot(index, term, installed);

    public void Sync() => Group.Sync();

    public int ReleaseTo(ulong index) => Group.ReleaseTo(index);

    public void Dispose() => Engine.Dispose();
}
