namespace Shortener.Core.Links;

/// <summary>
/// The result of one command in a batch, or the error that rolled back that command alone.
/// <see cref="Duplicate"/>: a proposal already applied earlier in the log (a re-proposal), skipped
/// and answered with the first copy's result. <see cref="Change"/>: the link change it made, when
/// applied from a log (what the change feed and sinks read first, before the database commits it).
/// </summary>
public sealed record BatchItemResult(CommandResult? Result, Exception? Error, bool Duplicate = false, Changes.LinkChange? Change = null);
