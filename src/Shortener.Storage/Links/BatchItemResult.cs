using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>The result of one command in a batch, or the error that rolled back that command alone.</summary>
public sealed record BatchItemResult(CommandResult? Result, Exception? Error)
{
    public CommandResult Unwrap() => Error is null
        ? Result!
        : throw new StorageException($"applying the command failed: {Error.Message}", Error);
}
