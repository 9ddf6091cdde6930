namespace Shortener.Core.Clocks;

/// <summary>One event: the <paramref name="Counter"/>-th write coordinated by node <paramref name="Node"/>.</summary>
public readonly record struct Dot(ulong Node, ulong Counter) : IComparable<Dot>
{
    public int CompareTo(Dot other) => Node != other.Node ? Node.CompareTo(other.Node) : Counter.CompareTo(other.Counter);

    public override string ToString() => $"({Node},{Counter})";
}
