using Shortener.Core.Links;

namespace Shortener.Storage.Links;

/// <summary>
/// The result of one command in a batch, or the error that rolled back that command alone.
/// <see cref="Duplicate"/>: a proposal already applied earlier in the log (a re-proposal), skipped.
/// </summary>
public sealed record BatchItemResult(CommandResult? Result, Exception? Error, bool Duplicate = false)
{
    public CommandResult Unwrap() => Error is null
        ? Result!
        : throw new StorageException($"applying the command failed: {Error.Message}", Error);
}
