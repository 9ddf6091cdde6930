namespace Shortener.Core.Links;

/// <summary>A lease on the sequence numbers [Start, Start + Count), granted by applying <see cref="LeaseCodeBlock"/>.</summary>
public readonly record struct CodeBlock(ulong Start, ulong Count)
{
    public ulong End => Start + Count;
}
