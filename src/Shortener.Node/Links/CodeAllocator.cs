using Shortener.Core.Links;
using Shortener.Storage.Links;

namespace Shortener.Node.Links;

/// <summary>
/// This node's supply of generated codes: a <see cref="ShortCodeAllocator"/> refilled by leasing a
/// block of the sequence through the state machine whenever it runs dry, so a link costs no
/// coordination of its own. Numbers of a block not used before a restart are simply skipped.
/// </summary>
public sealed class CodeAllocator(ShortCodeAllocator allocator, GroupCommitWriter writer, ulong blockSize, TimeProvider time, Action? leased = null)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Builds the allocator once the writer it leases through exists.</summary>
    public delegate CodeAllocator Factory(GroupCommitWriter writer);

    public async Task<string> NextAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            string code;
            while (!allocator.TryNext(out code))
            {
                var result = await writer.SubmitAsync(
                    new LinkCommandEnvelope(new LeaseCodeBlock(time.GetUtcNow().ToUnixTimeMilliseconds(), blockSize)),
                    cancellationToken).ConfigureAwait(false);
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
