namespace Shortener.Core.Links;

/// <summary>
/// Hands out short codes from leased blocks of a link sequence with no coordination per code:
/// the owner leases a block (one replicated command per <c>Count</c> links), then numbers inside
/// it are turned into codes by the keyed <see cref="CodeScrambler"/>. Blocks never overlap, and the
/// scrambler is a bijection, so codes from different allocators never collide.
/// A sharded cluster gives each shard its own sequence: block number k stands for the code number
/// <c>offset + stride·k</c> (offset = shard, stride = shard count), so the numbers of different
/// shards never meet and a code's number tells which shard it belongs to.
/// Not thread-safe; the owner serialises calls.
/// </summary>
public sealed class ShortCodeAllocator(CodeScrambler scrambler, ulong offset = 0, ulong stride = 1)
{
    private readonly Queue<CodeBlock> _blocks = new();
    private ulong _next;
    private ulong _end;

    /// <summary>Numbers still available in the blocks held.</summary>
    public ulong Remaining => (_end - _next) + _blocks.Aggregate(0UL, (sum, b) => sum + b.Count);

    public void AddBlock(CodeBlock block)
    {
        if (block.Count == 0)
        {
            return;
        }

        var last = block.End - 1;
        if (last > (scrambler.Domain - 1 - offset) / stride)
        {
            throw new ArgumentOutOfRangeException(nameof(block), block, $"block exceeds the {scrambler.Length}-character code space");
        }

        _blocks.Enqueue(block);
    }

    public bool TryNext(out string code)
    {
        while (_next == _end)
        {
            if (!_blocks.TryDequeue(out var block))
            {
                code = string.Empty;
                return false;
            }

            _next = block.Start;
            _end = block.End;
        }

        code = scrambler.ToCode(offset + (stride * _next++));
        if (AliasRules.Reserved.Contains(code))
        {
            // A number whose code spells one of the service's own paths (say "healthz") is skipped.
            return TryNext(out code);
        }

        return true;
    }
}
