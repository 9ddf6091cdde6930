namespace Shortener.Storage.Files;

/// <summary>
/// The few file operations the Raft log and its snapshot files need, so the same code runs on the
/// real disk and on the simulator's, which loses what was not synced when it crashes. The
/// durability rules are POSIX's: a file's bytes survive a power loss once the file is synced, and
/// its name (creation, rename, removal) once its directory is.
/// </summary>
public interface IFileSystem
{
    void CreateDirectory(string path);

    /// <summary>The files in <paramref name="directory"/> whose names end with <paramref name="suffix"/>, as full paths.</summary>
    IReadOnlyList<string> Files(string directory, string suffix);

    byte[] ReadAll(string path);

    /// <summary>A new, empty file at <paramref name="path"/> (replacing one there), open for appending.</summary>
    IAppendFile Create(string path);

    /// <summary>An existing file, open for appending at its end.</summary>
    IAppendFile OpenAppend(string path);

    /// <summary>Cuts a file to <paramref name="length"/> bytes and syncs it.</summary>
    void Truncate(string path, long length);

    void Delete(string path);

    /// <summary>Renames <paramref name="source"/> to <paramref name="destination"/>, replacing what is there.</summary>
    void Move(string source, string destination);

    /// <summary>Makes the names in <paramref name="directory"/> durable.</summary>
    void SyncDirectory(string directory);
}
