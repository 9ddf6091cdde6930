using Shortener.Core.Links;

namespace Shortener.Node.Links;

/// <summary>
/// This node's supply of generated codes for one shard: a <see cref="ShortCodeAllocator"/> drawing
/// only codes the shard owns, refilled by leasing a block of the shard's sequence through its Raft
/// log whenever it runs dry, so a link costs no coordination of its own. Numbers of a block not
/// used before a restart are simply skipped.
/// </summary>
public sealed class CodeAllocator(ShortCodeAllocator allocator, Func<LeaseCodeBlock, CancellationToken, Task<CommandResult>> lease, ulong blockSize, TimeProvider time, Action? leased = null)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<string> NextAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string code;
            while (!allocator.TryNext(out code))
            {
                var result = await lease(new LeaseCodeBlock(time.GetUtcNow().ToUnixTimeMilliseconds(), blockSize), cancellationToken).ConfigureAwait(false);
                allocator.AddBlock(result.Block ?? throw new InvalidOperationException("lease returned no block"));
                leased?.Invoke();
            }

            return code;
        }
        finally
        {
            _gate.Release();
        }
    }
}
