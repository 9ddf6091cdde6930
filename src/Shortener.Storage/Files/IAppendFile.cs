namespace Shortener.Storage.Files;

/// <summary>A file being written at its end.</summary>
public interface IAppendFile : IDisposable
{
    long Length { get; }

    void Write(ReadOnlySpan<byte> data);

    /// <summary>Hands what was written to the operating system (it survives the process, not a power loss).</summary>
    void Flush();

    /// <summary>Waits until what was written is on the disk (fdatasync).</summary>
    void Sync();
}
