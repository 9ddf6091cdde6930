namespace Shortener.Storage;

/// <summary>Durable state cannot be used as it is: corrupt, from a newer version, or unreadable. The message says what to do.</summary>
public class StorageException : Exception
{
    public StorageException(string message)
        : base(message)
    {
    }

    public StorageException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
