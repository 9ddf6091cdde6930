namespace Shortener.Simulation.Checkers;

/// <summary>
/// One client operation on one key of a register store, with its invocation and return times
/// (return is <see cref="long.MaxValue"/> for an unknown outcome). For a read, <see cref="Output"/> is
/// the value read; for compare-and-set, "ok" or "fail" (null when unknown).
/// </summary>
public sealed record RegisterOperation(
    int Process,
    string Key,
    RegisterOperationKind Kind,
    string? Value,
    string? Expected,
    string? Output,
    long Invoke,
    long Return,
    OperationStatus Status)
{
    public override string ToString() =>
        $"p{Process} {Kind}({Key}{(Kind == RegisterOperationKind.Read ? string.Empty : $", {Expected ?? string.Empty}->{Value}")}) = {Output ?? "?"} [{Invoke}, {(Return == long.MaxValue ? "∞" : Return)}] {Status}";
}
