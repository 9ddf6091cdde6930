namespace Shortener.Core.Changes;

/// <summary>What a change event records, as Debezium names it (<c>c</c>, <c>u</c>, <c>d</c>, <c>r</c>).</summary>
public enum ChangeOperation
{
    Create,
    Update,
    Delete,

    /// <summary>A link read by a snapshot, not changed.</summary>
    Read,
}

public static class ChangeOperations
{
    public static string Code(ChangeOperation op) => op switch
    {
        ChangeOperation.Create => "c",
        ChangeOperation.Update => "u",
        ChangeOperation.Delete => "d",
        ChangeOperation.Read => "r",
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };
}
